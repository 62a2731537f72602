#!/usr/bin/env bash
# Checks the installed programs on a machine as a unit's laptop has it: installs with
# scripts/install.sh into a temporary prefix, then, with the Swift toolchain (/opt/swift), the build
# folders and the source tree hidden (a private mount namespace with an empty tmpfs over each), runs
# unit-client plan, unit-client init, hub init, an activity, a dump. Needs root (unshare -m).
#
#   scripts/check-install.sh [--from STATIC_BUILD_BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/cchc-prefix.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/cchc-installed.XXXXXX")
trap 'rm -rf "$prefix" "$work"' EXIT

if [ "${1:-}" = "--from" ]; then
  scripts/install.sh --prefix "$prefix" --bin-only-from "${2:?}"
else
  scripts/install.sh --prefix "$prefix"
fi

echo "== Thư viện động cần cho các chương trình đã cài (không được có thư viện của Swift):"
for p in unit-client hub; do
  ldd "$prefix/bin/$p" | sed "s|^|  $p: |"
  if ldd "$prefix/bin/$p" | grep -E 'libswift|libFoundation|libdispatch|/opt/swift' >/dev/null; then
    echo "Lỗi: $p còn phụ thuộc vào thư viện của bộ công cụ Swift." >&2
    exit 1
  fi
done

toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
hide=("$toolchain" "$root/.build" "$root/.build-static" "$root/Sources")
echo "== Chạy với các thư mục bị che: ${hide[*]}"
unshare -m bash -euo pipefail -c '
  prefix=$1; work=$2; shift 2
  for d in "$@"; do [ -d "$d" ] && mount -t tmpfs none "$d"; done
  command -v swift >/dev/null 2>&1 && swift --version >/dev/null 2>&1 && { echo "Lỗi: bộ công cụ Swift vẫn chạy được." >&2; exit 1; }
  cd "$work"
  "$prefix/bin/unit-client" plan > plan.txt
  grep -q "ND01" plan.txt
  "$prefix/bin/unit-client" init --unit TTQLCK --db unit.sqlite
  "$prefix/bin/hub" init --db hub.sqlite
  id=$("$prefix/bin/unit-client" activity add --db unit.sqlite --form HT04 --content ND04 --date 2026-02-10 \
      --title "Phát tờ rơi tại cửa khẩu Hữu Nghị" --quantity 500 | tail -n 1)
  "$prefix/bin/unit-client" dump --db unit.sqlite | grep -q "$id"
  "$prefix/bin/hub" status --db hub.sqlite > /dev/null
  # Without its master data a program says so and exits 5; it does not crash.
  set +e
  CCHC_CATALOG=/nonexistent/catalog.json "$prefix/bin/unit-client" plan 2> missing.txt
  rc=$?
  set -e
  [ "$rc" = 5 ] || { echo "Lỗi: thiếu dữ liệu Kế hoạch phải thoát mã 5, nhận $rc." >&2; cat missing.txt >&2; exit 1; }
  grep -q "Không tìm thấy dữ liệu Kế hoạch" missing.txt
' bash "$prefix" "$work" "${hide[@]}"
echo "Cài đặt chạy được khi không có bộ công cụ Swift (plan, init, hub init, activity add, dump, status, thiếu dữ liệu Kế hoạch)."
