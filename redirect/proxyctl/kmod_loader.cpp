// SPDX-License-Identifier: Apache-2.0
#include "kmod_loader.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstring>

namespace tandem::proxy {

namespace {

std::string kernel_release()
{
	utsname u{};
	return uname(&u) == 0 ? u.release : "unknown";
}

}  // namespace

Result<ModuleLoader> ModuleLoader::open()
{
	KmodCtxPtr ctx(kmod_new(nullptr, nullptr));
	if (!ctx)
		return make_error("libkmod: cannot open the module index for kernel " +
				  kernel_release() + " (is /lib/modules/" + kernel_release() +
				  " there?)");
	kmod_load_resources(ctx.get());
	return ModuleLoader(std::move(ctx));
}

bool ModuleLoader::is_loaded(const std::string &name)
{
	struct stat st{};
	return stat(("/sys/module/" + name).c_str(), &st) == 0;
}

Result<bool> ModuleLoader::ensure(const std::string &name)
{
	if (is_loaded(name))
		return false;
	kmod_list *list = nullptr;
	int err = kmod_module_new_from_lookup(ctx_.get(), name.c_str(), &list);
	if (err < 0 || !list)
		return make_error("kernel module " + name + " is not installed for kernel " +
				  kernel_release() +
				  (name == "tandem_redirect"
					   ? ": install the tandem-redirect-dkms package (it builds the "
					     "module for this kernel), or pass --module PATH/tandem_redirect.ko"
					   : ": install the linux-image package of the running kernel"),
				  ENOENT);
	bool loaded = false;
	Result<bool> result = false;
	kmod_list *it;
	kmod_list_foreach(it, list) {
		KmodModPtr mod(kmod_module_get_module(it));
		err = kmod_module_probe_insert_module(mod.get(), KMOD_PROBE_IGNORE_LOADED, nullptr,
						      nullptr, nullptr, nullptr);
		if (err < 0) {
			result = make_error("loading kernel module " + name + ": " +
					    std::strerror(-err) +
					    (err == -EPERM ? " (needs root: CAP_SYS_MODULE)" : ""),
					    -err);
			break;
		}
		loaded = true;
	}
	kmod_module_unref_list(list);
	if (!result.ok())
		return result;
	return loaded;
}

Result<bool> ModuleLoader::ensure_from_path(const std::string &name, const std::string &path)
{
	if (is_loaded(name))
		return false;
	kmod_module *raw = nullptr;
	int err = kmod_module_new_from_path(ctx_.get(), path.c_str(), &raw);
	if (err < 0)
		return make_error("--module " + path + ": " + std::strerror(-err), -err);
	KmodModPtr mod(raw);
	err = kmod_module_insert_module(mod.get(), 0, nullptr);
	if (err < 0 && err != -EEXIST)
		return make_error("--module " + path + ": cannot load: " + std::strerror(-err) +
				  (err == -ENOEXEC ? " (built for another kernel?)" : ""), -err);
	return true;
}

}  // namespace tandem::proxy
