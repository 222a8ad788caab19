// SPDX-License-Identifier: Apache-2.0
// The reference values of tests/data/glb-compat.json: SipHash, row orders, flows and one
// encapsulated frame, exactly as GLB computes them.
#include <doctest/doctest.h>

#include <map>

#include "bytes.h"
#include "forwarder.h"
#include "forwarding_table.h"
#include "siphash.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static const nlohmann::json vectors = glb_vectors();

TEST_CASE("siphash-2-4 matches the reference outputs")
{
	for (const auto &v : vectors["siphash"]) {
		auto msg = from_hex(v["msg"]);
		uint64_t h = siphash24(key(v["key"]), msg.data(), msg.size());
		CHECK(u64_hex(h) == v["u64"].get<std::string>());
	}
}

TEST_CASE("SipState with an absorbed prefix equals the one-shot hash")
{
	SipKey k = key("000102030405060708090a0b0c0d0e0f");
	std::vector<uint8_t> msg(40);
	for (size_t i = 0; i < msg.size(); i++)
		msg[i] = static_cast<uint8_t>(i * 7);
	for (size_t tail = 0; tail <= 24; tail++) {
		SipState st(k);
		st.absorb_block(load_le64(msg.data()));
		CHECK(st.finish(msg.data() + 8, tail, 8 + tail) == siphash24(k, msg.data(), 8 + tail));
	}
}

TEST_CASE("row seeds, scores and orders match GLB")
{
	for (const auto &v : vectors["row_order"]) {
		SipKey seed = key(v["seed"]);
		uint32_t row = v["row"];
		uint64_t rs = row_seed(seed, row);
		uint8_t rs_bytes[8];
		std::memcpy(rs_bytes, &rs, 8);  // the output bytes, as GLB stores them
		CHECK(to_hex(rs_bytes, 8) == v["row_seed"].get<std::string>());

		std::vector<Backend> backends;
		for (const auto &[addr, score] : v["scores"].items()) {
			backends.push_back(Backend{ip(addr)});
			uint64_t s = backend_score(seed, rs, ip(addr));
			CHECK(u64_hex(s) == score.get<std::string>());
		}
		std::vector<std::string> order;
		for (uint16_t i : rendezvous_order(seed, backends, row))
			order.push_back(backends[i].address.to_string());
		CHECK(order == v["order"].get<std::vector<std::string>>());

		// The built table's row is the head of that order, for every k.
		for (unsigned k = 1; k <= backends.size(); k++) {
			auto t = ForwardingTable::build(seed, backends, k);
			auto r = t.row(row);
			REQUIRE(r.size() == k);
			for (unsigned i = 0; i < k; i++)
				CHECK(backends[r[i]].address.to_string() == order[i]);
		}
	}
}

static std::string flow_yaml(const nlohmann::json &table, const nlohmann::json &fields)
{
	std::string y = "services:\n  - name: t\n    binds:\n"
			"      - {address: 0.0.0.0/0, protocol: tcp, ports: [1-65535]}\n"
			"      - {address: '::/0', protocol: udp, ports: [1-65535]}\n"
			"    hash_key: " + table["hash_key"].get<std::string>() + "\n"
			"    seed: " + table["seed"].get<std::string>() + "\n    hash_fields: [";
	for (size_t i = 0; i < fields.size(); i++)
		y += (i ? ", " : "") + fields[i].get<std::string>();
	y += "]\n    backends:\n";
	for (const auto &b : table["backends"])
		y += "      - {address: " + b.get<std::string>() + "}\n";
	return y;
}

TEST_CASE("flows hash to GLB's rows, hops and UDP source ports")
{
	for (const auto &v : vectors["flows"]) {
		Config cfg = config_from(flow_yaml(v["table"], v["hash_fields"]));
		ServiceSet set = ServiceSet::compile(cfg.services);
		std::string src = v["src"], dst = v["dst"];
		auto frame = src.find(':') == std::string::npos
				     ? tcp_frame_v4(src, v["sport"], dst, v["dport"])
				     : udp_frame_v6(src, v["sport"], dst, v["dport"]);
		ParsedPacket pkt = parse_frame(frame.data(), frame.size());
		REQUIRE(pkt.verdict == Verdict::ok);
		Route r = set.route(pkt);
		REQUIRE(r.verdict == Verdict::ok);
		CHECK(u64_hex(r.hash) == v["hash_u64"].get<std::string>());
		CHECK((r.hash & table_row_mask) == v["row"].get<uint32_t>());
		std::vector<std::string> hops;
		for (unsigned i = 0; i < r.hop_count; i++)
			hops.push_back(IpAddress::from_v4(r.hop[i]).to_string());
		CHECK(hops == v["hops"].get<std::vector<std::string>>());
		CHECK(r.udp_source_port == v["udp_sport"].get<uint16_t>());
	}
}

TEST_CASE("the encapsulated frame matches GLB's byte for byte")
{
	for (const auto &v : vectors["encap"]) {
		Config cfg = config_from(flow_yaml(v["table"], nlohmann::json::array({"src_addr"})));
		ServiceSet set = ServiceSet::compile(cfg.services);
		auto in = from_hex(v["in_frame"]);
		for (bool checksum : {false, true}) {
			std::vector<uint8_t> buf(256 + in.size());
			std::memcpy(buf.data() + 256, in.data(), in.size());
			EncapFields f;
			f.source_ip = ip("65.65.65.65").v4_raw();
			f.udp_checksum = checksum;
			MacAddress mac{2, 0, 0, 0, 0, 1};
			auto res = forward_frame(set, f, buf.data(), static_cast<uint32_t>(buf.size()), 256,
						 static_cast<uint32_t>(in.size()), 0,
						 [&](uint32_t) { return &mac; });
			REQUIRE(res.verdict == Verdict::ok);
			const uint8_t *l3 = buf.data() + res.offset + 14;
			size_t l3_len = res.length - 14;
			if (!checksum)
				CHECK(to_hex(l3, l3_len) == v["out_l3_udp_checksum_off"].get<std::string>());
			else
				CHECK(to_hex(l3 + 20, 8) == v["out_l3_udp_checksum_on_udp_header"].get<std::string>());
			CHECK(std::memcmp(buf.data() + res.offset, mac.data(), 6) == 0);
			auto decoded = decode_gue_ipv4({l3, l3_len});
			REQUIRE(decoded.ok());
			CHECK(decoded->hop_count == 1);
		}
	}
}
