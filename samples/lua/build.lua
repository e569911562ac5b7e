-- syntax=lua.v0
-- A monorepo-style build: the modules to build are listed in MODULES; each
-- builds in its own container (they run in parallel), and their outputs are
-- merged into one image.
--
--   kiln build -f samples/lua/build.lua -o type=local,dest=out-lua samples/lua
local util = require("lib.util")

local base = kiln.image("busybox")
local ctx = kiln.context({exclude = {"*.log"}})

-- One module: build.sh turns modules/NAME into /out/NAME. The output
-- directory is a writable mount of an empty state, so the module's result
-- is that directory alone, not busybox plus it.
local function module(name)
  local exec = base
    :env("MODULE", name)
    :dir("/src/" .. name)
    :run("sh /tools/build.sh /mod /out", {
      mounts = {
        kiln.bind(ctx, "/mod", {source = "modules/" .. name}),
        kiln.bind(ctx, "/tools", {source = "tools"}),
        kiln.bind(kiln.scratch(), "/out", {readonly = false}),
        kiln.cache("/root/.cache/modules", {id = "sample-modules", sharing = "locked"}),
        kiln.tmpfs("/scratch"),
      },
      network = "none",
    })
  return exec:mount("/out")
end

local names = util.lines(kiln.read_file(ctx, "MODULES"))
local parts = {}
for _, name in ipairs(names) do parts[#parts + 1] = module(name) end

local app = base
  :copy(kiln.merge(parts), "/", "/opt/modules")
  :copy(ctx, "tools/app.sh", "/usr/local/bin/app", {chmod = "0755"})
  :mkdir("/data", {mode = "0755"})
  :mkfile("/etc/app.conf", "modules=" .. table.concat(names, ",") .. "\n", {mode = "0644"})
  :symlink("/usr/local/bin/app", "/usr/local/bin/run-all")
  :rm("/tmp/junk", {allow_not_found = true})

return kiln.result(app, {
  entrypoint = {"/usr/local/bin/app"},
  env = {MODE = "prod"},
  labels = {["org.example.team"] = "build"},
  workdir = "/data",
})
