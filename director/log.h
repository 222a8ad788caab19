// SPDX-License-Identifier: Apache-2.0
// Structured logging: journald (sd_journal_sendv, upper-case fields, MESSAGE_ID) when the
// process runs under systemd (JOURNAL_STREAM set), plain lines on stderr otherwise.
// The threshold is process-wide because libbpf's and libxdp's print callbacks carry no
// context pointer; it is set once in main() before any thread starts.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tandem::director {

enum class Level : int { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

std::optional<Level> parse_level(std::string_view text);  // "err".."debug", "error", "warn"

// MESSAGE_IDs (journalctl MESSAGE_ID=...), one per kind of event an operator may filter on.
namespace message_id {
inline constexpr const char *started = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f60";
inline constexpr const char *stopped = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f61";
inline constexpr const char *reload_ok = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f62";
inline constexpr const char *reload_failed = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f63";
inline constexpr const char *xsk_mode = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f64";
inline constexpr const char *neighbour = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f65";
inline constexpr const char *fatal = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f66";
inline constexpr const char *health = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f67";
inline constexpr const char *mtu = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f68";
// A worker that stopped moving (watchdog), held up reclamation, or would not stop.
inline constexpr const char *worker_stall = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f6f";
// The interface changed (MTU, MAC, address, name, link up or down); netlink overruns.
inline constexpr const char *interface = "6f1c2a0e9b8d4c7e8a1f0b2c3d4e5f69";
}  // namespace message_id

using LogField = std::pair<const char *, std::string>;  // upper-case name, value

void set_log_level(Level level);
Level log_level();
bool log_enabled(Level level);

// One record. `id` may be nullptr. Fields are journal fields (e.g. {"TANDEM_QUEUE", "0"}).
void log(Level level, const char *id, std::string_view message,
	 std::initializer_list<LogField> fields = {});

// Sends libbpf's and libxdp's messages to log() at debug level (warnings stay warnings).
void route_library_logs();

}  // namespace tandem::director
