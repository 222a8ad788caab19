#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds tandem_redirect.ko with Kbuild for meson's custom_target:
#   build.sh KVER VERSION WORKDIR OUTPUT SOURCE...
# Copies the sources (and the shared netlink header, as include/) into
# WORKDIR, runs Kbuild there with -Werror and copies the module to OUTPUT.
set -eu
kver=$1 version=$2 work=$3 output=$4
shift 4
mkdir -p "$work/include"
for f in "$@"; do
	case $f in
	*/include/*) cp -p "$f" "$work/include/" ;;
	*) cp -p "$f" "$work/" ;;
	esac
done
make -s -C "/lib/modules/$kver/build" M="$(realpath "$work")" \
	TANDEM_REDIRECT_VERSION="$version" KCFLAGS=-Werror modules
cp "$work/tandem_redirect.ko" "$output"
