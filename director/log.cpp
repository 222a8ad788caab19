// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <sys/uio.h>
#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <bpf/libbpf.h>
#include <systemd/sd-journal.h>
#include <xdp/libxdp.h>

namespace tandem::director {
namespace {

std::atomic<int> threshold{static_cast<int>(Level::info)};

bool to_journal()
{
	static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
	return journal;
}

const char *level_name(Level l)
{
	switch (l) {
	case Level::err: return "error";
	case Level::warning: return "warning";
	case Level::notice: return "notice";
	case Level::info: return "info";
	case Level::debug: return "debug";
	}
	return "?";
}

void library_message(const char *library, Level level, const char *format, va_list args)
{
	if (!log_enabled(level))
		return;
	char buf[512];
	vsnprintf(buf, sizeof(buf), format, args);
	std::string_view text(buf);
	while (!text.empty() && text.back() == '\n')
		text.remove_suffix(1);
	log(level, nullptr, text, {{"TANDEM_SOURCE", library}});
}

int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	library_message("libbpf", level == LIBBPF_WARN ? Level::warning : Level::debug, format, args);
	return 0;
}

int libxdp_print(enum libxdp_print_level level, const char *format, va_list args)
{
	library_message("libxdp", level == LIBXDP_WARN ? Level::warning : Level::debug, format, args);
	return 0;
}

}  // namespace

std::optional<Level> parse_level(std::string_view t)
{
	if (t == "err" || t == "error")
		return Level::err;
	if (t == "warning" || t == "warn")
		return Level::warning;
	if (t == "notice")
		return Level::notice;
	if (t == "info")
		return Level::info;
	if (t == "debug")
		return Level::debug;
	return std::nullopt;
}

void set_log_level(Level level) { threshold.store(static_cast<int>(level), std::memory_order_relaxed); }
Level log_level() { return static_cast<Level>(threshold.load(std::memory_order_relaxed)); }
bool log_enabled(Level level) { return static_cast<int>(level) <= threshold.load(std::memory_order_relaxed); }

void log(Level level, const char *id, std::string_view message, std::initializer_list<LogField> fields)
{
	if (!log_enabled(level))
		return;
	if (!to_journal()) {
		std::string line = std::string(level_name(level)) + ": " + std::string(message);
		for (const LogField &f : fields)
			line += std::string(" ") + f.first + "=" + f.second;
		line += "\n";
		std::fwrite(line.data(), 1, line.size(), stderr);
		return;
	}
	std::vector<std::string> strings;
	strings.reserve(fields.size() + 4);
	strings.push_back("MESSAGE=" + std::string(message));
	strings.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
	strings.push_back("SYSLOG_IDENTIFIER=tandem-director");
	if (id != nullptr)
		strings.push_back(std::string("MESSAGE_ID=") + id);
	for (const LogField &f : fields)
		strings.push_back(std::string(f.first) + "=" + f.second);
	std::vector<iovec> iov;
	iov.reserve(strings.size());
	for (std::string &s : strings)
		iov.push_back(iovec{s.data(), s.size()});
	sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void route_library_logs()
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

}  // namespace tandem::director
