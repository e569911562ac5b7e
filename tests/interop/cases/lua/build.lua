# syntax=kiln/lua-frontend
-- Runs on BuildKits without merge or symlink ops (dockerd 20.10's).
local base = kiln.image("busybox")
local ctx = kiln.context()
local names = {}
for line in kiln.read_file(ctx, "MODULES"):gmatch("[^\n]+") do
  if not line:match("^#") then names[#names + 1] = line end
end
local out = base
for _, n in ipairs(names) do
  out = out:run("mkdir -p /opt/" .. n .. " && cp /work/main.sh /work/VERSION /opt/" .. n .. "/", {
    mounts = {kiln.bind(ctx, "/work", {source = "modules/" .. n}), kiln.tmpfs("/tmp")},
    network = "none", env = {MODULE = n}}):root()
end
out = out:mkdir("/data", {mode = "0750"})
  :mkfile("/etc/app.conf", "modules=" .. table.concat(names, ",") .. "\n")
  :rm("/etc/motd", {allow_not_found = true})
  :copy(ctx, "tools/app.sh", "/usr/local/bin/app", {chmod = "0755"})
return kiln.result(out, {entrypoint = {"/usr/local/bin/app"}, env = {MODE = "prod"}})
