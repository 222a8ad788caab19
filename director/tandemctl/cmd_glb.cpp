// SPDX-License-Identifier: Apache-2.0
// tandemctl glb import|export: move between GLB's formats and Tandem's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "config.h"
#include "file_read.h"
#include "glb_format.h"

namespace tandemctl {

// GLB's files are JSON of the same order of size as a configuration: the same limit.
static std::optional<std::string> read_file(const std::string &path)
{
	tandem::Result<std::string> text =
		tandem::read_file_limited(path, tandem::max_config_bytes, "the file");
	if (!text) {
		std::cerr << text.error().message << "\n";
		return std::nullopt;
	}
	return std::move(*text);
}

// Temporary file in the same directory, fsync, rename: a reader never sees half a table.
static bool write_atomically(const std::string &path, const std::vector<uint8_t> &bytes)
{
	std::string tmp = path + ".tmp-XXXXXX";
	int fd = mkstemp(tmp.data());
	if (fd < 0) {
		std::cerr << path << ": cannot create a temporary file beside it (" << std::strerror(errno)
			  << ")\n";
		return false;
	}
	size_t done = 0;
	while (done < bytes.size()) {
		ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += static_cast<size_t>(n);
	}
	bool ok = done == bytes.size() && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
		std::cerr << path << ": write failed (" << std::strerror(ok ? errno : saved) << ")\n";
		unlink(tmp.c_str());
		return false;
	}
	return true;
}

static int import_tables(const std::string &table_path, const std::string &config_path)
{
	auto table = read_file(table_path);
	if (!table)
		return exit_error;
	std::optional<std::string> director;
	if (!config_path.empty() && !(director = read_file(config_path)))
		return exit_error;
	auto yaml = tandem::glb_import(*table, director);
	if (!yaml.ok()) {
		std::cerr << table_path << ": " << yaml.error().message << "\n";
		return exit_error;
	}
	// What we print must load; GLB accepts some tables Tandem refuses (overlapping binds).
	auto check = tandem::parse_config(*yaml, table_path + " (imported)");
	if (!check.ok()) {
		std::cerr << check.error().message << "\n";
		return exit_negative;
	}
	std::cout << *yaml;
	return exit_ok;
}

static int export_table(const std::string &file, const std::string &out)
{
	auto cfg = load_or_report(file);
	if (!cfg)
		return exit_error;
	auto bytes = tandem::glb_export(*cfg);
	if (!bytes.ok()) {
		std::cerr << file << ": " << bytes.error().message << "\n";
		return exit_negative;
	}
	if (!write_atomically(out, *bytes))
		return exit_error;
	std::cout << out << ": " << cfg->services.size() << " tables, " << bytes->size() << " bytes\n";
	return exit_ok;
}

void add_glb_command(CLI::App &app, int &exit_code)
{
	auto *glb = app.add_subcommand("glb", "Convert between GLB Director's formats and Tandem's");
	glb->require_subcommand(1);

	auto *imp = glb->add_subcommand("import", "Print GLB's forwarding_table.json as services: YAML");
	auto table = std::make_shared<std::string>();
	auto config = std::make_shared<std::string>();
	imp->add_option("FORWARDING_TABLE", *table, "GLB's forwarding_table.json")->required();
	imp->add_option("--director-config", *config, "GLB's config.json, for hash_fields and alt_hash_fields");
	imp->callback([table, config, &exit_code] { exit_code = import_tables(*table, *config); });

	auto *exp = glb->add_subcommand("export", "Write GLB's binary forwarding table (format 2) atomically");
	auto paths = std::make_shared<std::pair<std::string, std::string>>();
	exp->add_option("FILE", paths->first, "configuration file")->required();
	exp->add_option("OUT", paths->second, "the .bin to write")->required();
	exp->callback([paths, &exit_code] { exit_code = export_table(paths->first, paths->second); });
}

}  // namespace tandemctl
