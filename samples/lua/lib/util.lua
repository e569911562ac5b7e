-- Helpers for build scripts, loaded with require("lib.util").
local M = {}

-- The non-empty lines of `text`, trimmed, without '#' comments.
function M.lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" and line:sub(1, 1) ~= "#" then out[#out + 1] = line end
  end
  return out
end

return M
