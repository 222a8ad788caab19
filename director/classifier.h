// SPDX-License-Identifier: Apache-2.0
// Owner of the XDP classifier (bpf/classifier.bpf.c): loads the object built into the
// binary, attaches it with libxdp (through the multi-program dispatcher when bpffs is
// mounted; libxdp falls back to a plain attach when it is not, and if even that fails we
// attach the program directly with libbpf), writes its maps, and detaches exactly what it
// attached when destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/classifier_shared.h"
#include "config.h"
#include "result.h"
#include "service_set.h"

struct bpf_object;
struct xdp_program;
struct xsk_socket;

namespace tandem::director {

static_assert(sizeof(tandem_v4_key) == 12);
static_assert(sizeof(tandem_v6_key) == 24);
static_assert(sizeof(tandem_bind_value) == 8);
static_assert(sizeof(tandem_port_bitmap) == 8192);
static_assert(sizeof(tandem_state) == 8);
static_assert(TANDEM_CLS_COUNT == 7);

enum class AttachKind : uint8_t { dispatcher, libxdp_legacy, libbpf_direct };
std::string_view to_string(AttachKind k);

using QueueClassCounters = std::array<uint64_t, TANDEM_CLS_COUNT>;

class Classifier {
public:
	// The caller holds the interface's InterfaceLock: a tandem program already on the
	// interface is then a dead director's, and is removed before the attach.
	static Result<Classifier> attach(const std::string &ifname, XdpMode mode, uint32_t max_frame);

	// For tests (bpf_prog_test_run): loaded, maps usable, attached nowhere.
	static Result<Classifier> load_only(uint32_t max_frame);
	int prog_fd() const;

	Classifier(Classifier &&) noexcept;
	Classifier &operator=(Classifier &&) = delete;
	~Classifier();

	// Whether binds fit the classifier's maps (what write_binds would refuse).
	static Result<void> check_binds(const std::vector<CompiledBind> &binds);

	Result<void> add_socket(xsk_socket *xsk);
	// Writes the set of maps not in use, then flips tandem_state.active: the program
	// sees either the old or the new binds, never a mix. Not on a worker thread.
	Result<void> write_binds(const std::vector<CompiledBind> &binds);
	// Per queue, summed over CPUs (a scrape-time system call).
	std::vector<QueueClassCounters> counters(uint32_t queues) const;

	bool native() const { return native_; }
	AttachKind attach_kind() const { return kind_; }
	uint32_t prog_id() const;

private:
	Classifier() = default;
	int map_fd(const char *name) const;

	bpf_object *obj_ = nullptr;
	xdp_program *prog_ = nullptr;
	int ifindex_ = 0;
	bool native_ = true;
	AttachKind kind_ = AttachKind::dispatcher;
	uint32_t active_ = 0;
	uint32_t max_frame_ = 0;
	bool attached_ = false;
};

}  // namespace tandem::director
