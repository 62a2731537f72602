#!/usr/bin/env bash
# The main job, end to end, on the embedded default (SQLite files in a temporary folder):
# a hub, the Office (VP), two departments and the border-gate centre (TTQLCK) record a quarter of
# CCHC communication work offline, with a concurrent edit; VP and the departments sync over HTTP,
# TTQLCK by a signed bundle file; every unit submits its Q1 report; the hub exports the Q1
# consolidated report as DOCX and Markdown and prints where they are.
#
#   scripts/demo.sh [--keep DIR]     (DIR: keep the files there instead of a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=""
if [ "${1:-}" = "--keep" ] && [ -n "${2:-}" ]; then dir="$2"; mkdir -p "$dir"; fi
[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/cchc-demo.XXXXXX")
dir=$(cd "$dir" && pwd)

echo "== Biên dịch (swift build)…"
swift build >/dev/null 2>&1 || swift build
bin=$(swift build --show-bin-path)
HUB="$bin/hub"
UC="$bin/unit-client"

step() { printf '\n== %s\n' "$*"; }

step "Thư mục làm việc: $dir"
"$HUB" init --db "$dir/hub.sqlite"

step "Hub chạy trên 127.0.0.1 (cổng tự chọn)"
"$HUB" serve --db "$dir/hub.sqlite" --host 127.0.0.1 --port 0 >"$dir/hub.log" 2>&1 &
hub_pid=$!
trap 'kill -TERM $hub_pid 2>/dev/null || true; wait $hub_pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/hub.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "Hub không khởi động được:"; cat "$dir/hub.log"; exit 1; }
url="http://127.0.0.1:$port"
echo "Hub: $url"

step "Ghi danh bốn bản sao: VP, hai phòng chuyên môn, TTQLCK"
for unit in VP CPCM-QLDTDN CPCM-QHXDMT TTQLCK; do
  "$HUB" enrol --db "$dir/hub.sqlite" --unit "$unit" --url "$url" --out "$dir/$unit.enrol" >/dev/null
  "$UC" init --db "$dir/$unit.sqlite" --enrolment "$dir/$unit.enrol"
done
uc() { local unit=$1; shift; "$UC" "$@" --db "$dir/$unit.sqlite"; }
add() { local unit=$1; shift; uc "$unit" activity add "$@" | tail -n 1; }

step "Các đơn vị ghi nhận hoạt động quý I (ngoại tuyến)"
add VP --form HT08 --content ND05,ND10 --date 2026-01-12 --title "Đăng Bản tin điện tử CCHC của Chính phủ số 1/2026" --quantity 1 >/dev/null
add VP --form HT06 --content ND01,ND02 --date 2026-02-24 --title "Tin: Ban Quản lý ban hành Kế hoạch CCHC năm 2026" --quantity 1 \
  --url https://bqlkktck.langson.gov.vn/tin-tuc/ke-hoach-cchc-2026 >/dev/null
add VP --form HT01 --content ND03,ND07 --date 2026-03-10 --title "Lồng ghép tuyên truyền CCHC trong giao ban cơ quan tháng 3" --quantity 1 --participants 42 >/dev/null
add CPCM-QLDTDN --form HT02 --content ND01,ND05,ND06 --date 2026-03-05 --title "Hội nghị đối thoại với doanh nghiệp khu kinh tế cửa khẩu" \
  --quantity 1 --participants 65 >/dev/null
add CPCM-QLDTDN --form HT05 --content ND06 --date 2026-01-20 --title "Niêm yết thủ tục hành chính lĩnh vực đầu tư tại trụ sở" --quantity 18 >/dev/null
add CPCM-QHXDMT --form HT07 --content ND10 --date 2026-02-03 --title "Bài đăng Zalo về nộp hồ sơ xây dựng trực tuyến" --quantity 3 \
  --url https://zalo.me/bqlkktck/post/2026-02-03 >/dev/null
add CPCM-QHXDMT --form HT06 --content ND05 --date 2026-03-16 --title "Tin bài dịch vụ công trực tuyến (sau ngày chốt quý I)" --quantity 1 \
  --url https://bqlkktck.langson.gov.vn/tin-tuc/dvc-truc-tuyen >/dev/null
leaflets=$(add TTQLCK --form HT04 --content ND04,ND05 --date 2026-02-10 --title "Phát tờ rơi an toàn giao thông và dịch vụ công tại cửa khẩu Hữu Nghị" --quantity 500)
add TTQLCK --form HT01 --content ND04 --date 2026-03-12 --title "Tuyên truyền Luật Trật tự, an toàn giao thông đường bộ cho lái xe tại bãi xe Tân Thanh" --quantity 2 --participants 120 >/dev/null
uc TTQLCK activity list --period 2026-Q1

step "Sửa đồng thời: VP và TTQLCK cùng ghi chú tiến độ nhiệm vụ TN06 của TTQLCK khi chưa đồng bộ"
uc VP task update NV.TTQLCK.TN06 --note "VP: đề nghị bổ sung số liệu hồ sơ trực tuyến"
uc TTQLCK task update NV.TTQLCK.TN06 --status "đang thực hiện" --note "TTQLCK: đã phát 500 tờ rơi tại cửa khẩu"
uc TTQLCK activity edit "$leaflets" --participants 350 >/dev/null

step "VP và hai phòng đồng bộ qua HTTP"
for unit in VP CPCM-QLDTDN CPCM-QHXDMT; do uc "$unit" sync; done

step "TTQLCK không có mạng: trao đổi gói tin ký số qua USB"
tt_replica=$(uc TTQLCK status --json | sed -n 's/.*"replica_id" *: *"\([^"]*\)".*/\1/p')
uc TTQLCK bundle export --out "$dir/ttqlck-to-hub.bundle"
"$HUB" bundle import --db "$dir/hub.sqlite" "$dir/ttqlck-to-hub.bundle"
"$HUB" bundle export --db "$dir/hub.sqlite" --replica "$tt_replica" --out "$dir/hub-to-ttqlck.bundle"
uc TTQLCK bundle import "$dir/hub-to-ttqlck.bundle"

step "Xung đột được liệt kê để xem xét (giá trị thắng giống nhau ở mọi nơi)"
uc TTQLCK conflicts

step "Các đơn vị lập và gửi báo cáo quý I; đồng bộ lần nữa"
uc VP report draft --period 2026-Q1 --results "Đã ban hành và phổ biến Kế hoạch; đăng Bản tin CCHC." --issues "Tin bài còn ít." \
  --proposals "Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số." >/dev/null
uc CPCM-QLDTDN report draft --period 2026-Q1 --results "Tổ chức đối thoại doanh nghiệp; niêm yết 18 TTHC." \
  --tthc-total 24 --tthc-online 22 --dossiers-total 310 --dossiers-online 287 >/dev/null
uc CPCM-QHXDMT report draft --period 2026-Q1 --results "Tuyên truyền qua Zalo về hồ sơ xây dựng trực tuyến." \
  --tthc-total 12 --tthc-online 12 --dossiers-total 95 --dossiers-online 90 >/dev/null
uc TTQLCK report draft --period 2026-Q1 --results "Phát 500 tờ rơi, tuyên truyền cho 120 lái xe." \
  --issues "Sóng di động tại cửa khẩu không ổn định." >/dev/null
for unit in VP CPCM-QLDTDN CPCM-QHXDMT TTQLCK; do uc "$unit" report submit --period 2026-Q1 >/dev/null; done
for unit in VP CPCM-QLDTDN CPCM-QHXDMT; do uc "$unit" sync; done

step "Văn phòng ghi văn bản chỉ đạo và lập dự thảo tổng hợp của Ban (gợi ý từ số liệu, bổ sung nguyên nhân, đề xuất)"
uc VP directive add --symbol 15/BQLKKTCK-VP --issued 2026-01-06 \
  --summary "về việc triển khai Kế hoạch tuyên truyền cải cách hành chính năm 2026" >/dev/null
uc VP directive add --symbol 86/BQLKKTCK-VP --issued 2026-03-02 \
  --summary "về việc đôn đốc cung cấp tin, bài tuyên truyền cải cách hành chính quý I năm 2026" >/dev/null
uc VP report consolidate --period 2026-Q1 \
  --causes "Một số phòng, đơn vị chưa bố trí công chức phụ trách tin, bài; sóng di động tại khu vực cửa khẩu không ổn định." \
  --proposals "Đề nghị Sở Nội vụ tổ chức tập huấn kỹ năng truyền thông số về cải cách hành chính cho công chức phụ trách."
uc VP sync >/dev/null
uc TTQLCK bundle export --out "$dir/ttqlck-to-hub-2.bundle"
"$HUB" bundle import --db "$dir/hub.sqlite" "$dir/ttqlck-to-hub-2.bundle"
"$HUB" bundle export --db "$dir/hub.sqlite" --replica "$tt_replica" --out "$dir/hub-to-ttqlck-2.bundle"
uc TTQLCK bundle import "$dir/hub-to-ttqlck-2.bundle"
for unit in VP CPCM-QLDTDN CPCM-QHXDMT; do uc "$unit" sync >/dev/null; done

step "Mọi bản sao và hub có cùng trạng thái chuẩn tắc"
"$HUB" dump --db "$dir/hub.sqlite" >"$dir/hub.dump"
for unit in VP CPCM-QLDTDN CPCM-QHXDMT TTQLCK; do
  uc "$unit" dump >"$dir/$unit.dump"
  if cmp -s "$dir/hub.dump" "$dir/$unit.dump"; then echo "  $unit: giống hub"; else echo "  $unit: KHÁC hub"; exit 1; fi
done

step "Hub lập báo cáo tổng hợp quý I gửi UBND tỉnh và Sở Nội vụ"
# The registry gives the number at issue: the report leaves it blank («Số:      /BC-BQLKKTCK»).
"$HUB" report --db "$dir/hub.sqlite" --period 2026-Q1 --format docx --date 2026-03-16 --out "$dir/bao-cao-quy-I-2026.docx"
"$HUB" report --db "$dir/hub.sqlite" --period 2026-Q1 --format md --date 2026-03-16 --out "$dir/bao-cao-quy-I-2026.md"
"$HUB" report --db "$dir/hub.sqlite" --period 2026-Q1 --audience internal --format md --date 2026-03-16 --out "$dir/noi-bo-quy-I-2026.md" >/dev/null
"$HUB" report --db "$dir/hub.sqlite" --period 2026-Q1 --part section --format docx --out "$dir/phan-tuyen-truyen-quy-I-2026.docx" >/dev/null
sed -n '1,60p' "$dir/bao-cao-quy-I-2026.md"

step "Xong. Báo cáo:"
echo "  DOCX:     $dir/bao-cao-quy-I-2026.docx"
echo "  Markdown: $dir/bao-cao-quy-I-2026.md"
echo "  Bản nội bộ (Văn phòng): $dir/noi-bo-quy-I-2026.md"
echo "  Phần tuyên truyền để lồng ghép vào báo cáo CCHC: $dir/phan-tuyen-truyen-quy-I-2026.docx"
echo "  Cơ sở dữ liệu và nhật ký hub: $dir"
