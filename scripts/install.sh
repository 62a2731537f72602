#!/usr/bin/env bash
# Installs the programs for a machine without the Swift toolchain: unit-client and hub, built in
# release with the Swift runtime linked statically, and the plan's master data beside them:
#
#   PREFIX/bin/unit-client, PREFIX/bin/hub, PREFIX/share/cchc/plan-2026.json
#
#   scripts/install.sh [--prefix DIR]        (default /usr/local)
#   scripts/install.sh --prefix DIR --bin-only-from BUILD_DIR   (copy an existing static build)
#
# The binaries need only the system's C libraries (libc, libsqlite3, libz, libcurl for
# unit-client's HTTP); they find the master data through ../share/cchc relative to themselves, or
# CCHC_CATALOG=<file>.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?Lỗi: thiếu thư mục sau --prefix}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --bin-only-from) from="${2:?Lỗi: thiếu thư mục sau --bin-only-from}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Lỗi: tùy chọn không hợp lệ «$1» (dùng --prefix DIR)." >&2; exit 64 ;;
  esac
done

if [ -z "$from" ]; then
  echo "== Biên dịch bản phát hành, thư viện Swift liên kết tĩnh (swift build -c release --static-swift-stdlib)…"
  swift build -c release --static-swift-stdlib --scratch-path .build-static --product unit-client
  swift build -c release --static-swift-stdlib --scratch-path .build-static --product hub
  from=$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)
fi

install -d "$prefix/bin" "$prefix/share/cchc"
install -m 0755 "$from/unit-client" "$from/hub" "$prefix/bin/"
install -m 0644 Sources/SyncCore/Resources/plan-2026.json "$prefix/share/cchc/"
echo "Đã cài: $prefix/bin/unit-client, $prefix/bin/hub, $prefix/share/cchc/plan-2026.json"
