#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# meson test entry: run-scenario.sh BUILD_DIR SCENARIO.sh TIMEOUT_S
# Boots the VM lab (lib.sh) and runs one scenario inside; exits 77 with
# one line saying why when the lab cannot run on this machine.
. "$(dirname "$(realpath "$0")")/lib.sh"
vm_main "$@"
