// SPDX-License-Identifier: Apache-2.0
// Loading kernel modules with libkmod (no modprobe child process).
#pragma once

#include <libkmod.h>

#include <memory>
#include <string>

#include "result.h"

namespace tandem::proxy {

struct KmodCtxUnref { void operator()(kmod_ctx *c) const { kmod_unref(c); } };
struct KmodModUnref { void operator()(kmod_module *m) const { kmod_module_unref(m); } };
using KmodCtxPtr = std::unique_ptr<kmod_ctx, KmodCtxUnref>;
using KmodModPtr = std::unique_ptr<kmod_module, KmodModUnref>;

class ModuleLoader {
public:
	static Result<ModuleLoader> open();

	static bool is_loaded(const std::string &name);
	// Loads `name` (and its dependencies) unless it is loaded; Ok(true)
	// when this call loaded it.
	Result<bool> ensure(const std::string &name);
	// Loads the module file at `path` unless a module of that name is
	// loaded (for development builds and the VM lab).
	Result<bool> ensure_from_path(const std::string &name, const std::string &path);

private:
	explicit ModuleLoader(KmodCtxPtr ctx) : ctx_(std::move(ctx)) {}
	KmodCtxPtr ctx_;
};

}  // namespace tandem::proxy
