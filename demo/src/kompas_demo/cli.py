"""``kompas-demo``: bring up the Plaju demo through the services' HTTP APIs.

    kompas-demo seed            units, jabatan, employees, programmes, budgets, officials
    kompas-demo round           an assessment round through the whole chain, then a summary
    kompas-demo run             seed, then round

The services are found at COMPETENCY_URL, TRAINING_URL, BUDGET_URL and NOTIFICATION_URL
(default http://127.0.0.1:8001 … 8004) or the ``--*-url`` options. The same ``--seed`` and
``--employees`` give the same people, so ``round`` must use those ``seed`` used. Both
commands are idempotent: running them again changes nothing.

Exit status: 0 done, 1 some assessment rows were rejected, 2 a service refused or could not
be reached, 3 the chain did not settle within ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from . import plaju, rounds
from .api import DEFAULT_URLS, ServiceError, Services, admin_token, urls_from_env
from .dataset import Dataset
from .seed import Seeder

EXIT_OK, EXIT_REJECTED, EXIT_FAILED, EXIT_UNSETTLED = 0, 1, 2, 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    urls = urls_from_env()
    common = argparse.ArgumentParser(add_help=False)
    for name, url in urls.items():
        common.add_argument(
            f"--{name}-url", default=url, help=f"layanan {name} (env {name.upper()}_URL)"
        )
    common.add_argument("--seed", type=int, default=plaju.DEFAULT_SEED, help="benih data demo")
    common.add_argument(
        "--employees", type=int, default=plaju.DEFAULT_EMPLOYEES, help="jumlah pegawai"
    )
    common.add_argument(
        "--today",
        type=date.fromisoformat,
        default=date.today(),
        help="tanggal hari ini (YYYY-MM-DD): angkatan, tahun anggaran, tanggal penilaian",
    )
    common.add_argument("--quiet", action="store_true", help="tanpa bilah kemajuan")
    seeding = argparse.ArgumentParser(add_help=False)
    seeding.add_argument("--workers", type=int, default=8, help="permintaan paralel")
    round_ = argparse.ArgumentParser(add_help=False)
    round_.add_argument(
        "--csv", type=Path, help="berkas CSV hasil penilaian (default: penilaian-<tanggal>.csv)"
    )
    round_.add_argument("--chunk-size", type=int, default=200, help="baris per impor")
    round_.add_argument("--timeout", type=float, default=1200.0, help="detik menunggu rantai")
    round_.add_argument("--quiet-period", type=float, default=3.0, help="detik tanpa perubahan")
    round_.add_argument("--json", action="store_true", help="cetak ringkasan sebagai JSON")

    parser = argparse.ArgumentParser(
        prog="kompas-demo",
        description="Demo Kompas ASN (Kecamatan Plaju): isi data lewat API layanan dan "
        "jalankan satu putaran penilaian kompetensi melalui seluruh rantai.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", parents=[common, seeding], help="buat data demo")
    commands.add_parser("round", parents=[common, round_], help="putaran penilaian + ringkasan")
    commands.add_parser("run", parents=[common, seeding, round_], help="seed lalu round")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    services = Services.at(
        {name: getattr(args, f"{name}_url") for name in DEFAULT_URLS}, token=admin_token()
    )
    try:
        data = plaju.build(seed=args.seed, employees=args.employees, today=args.today)
    except ValueError as exc:
        print(f"Data demo tidak dapat dibuat: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        check_health(services)
        if args.command in ("seed", "run"):
            seed(services, data, args)
        if args.command in ("round", "run"):
            return assessment_round(services, data, args)
    except ServiceError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def check_health(services: Services) -> None:
    down = services.unhealthy()
    if down:
        names = ", ".join(f"{client.name} ({client.url})" for client in down)
        raise ServiceError(f"layanan tidak sehat atau tidak menjawab /health: {names}")


def seed(services: Services, data: Dataset, args: argparse.Namespace) -> None:
    started = time.monotonic()
    report = Seeder(services, workers=args.workers, progress=not args.quiet).run(data)
    elapsed = time.monotonic() - started
    print(f"Data demo (benih {args.seed}, {len(data.employees)} pegawai, tahun {data.fiscal_year})")
    print(f"  {'':<24}{'dibuat':>8}{'sudah ada':>11}")
    for kind, created, existing in report.rows():
        print(f"  {kind:<24}{created:>8}{existing:>11}")
    print(f"  selesai dalam {elapsed:.1f} detik".replace(".", ","))


def assessment_round(services: Services, data: Dataset, args: argparse.Namespace) -> int:
    standards = rounds.standards_of(services)
    missing = {e.jabatan_code for e in data.employees} - set(standards)
    if missing:
        raise ServiceError(
            f"{len(missing)} jabatan belum ada di layanan kompetensi; jalankan 'seed' dahulu "
            f"dengan --seed dan --employees yang sama"
        )
    rows = plaju.assessment_round(data, standards, seed=args.seed, assessed_on=args.today)
    path = args.csv or Path(f"penilaian-{args.today.isoformat()}.csv")
    content = rounds.write_csv(rows, path)
    progress = not args.quiet
    imported = rounds.import_file(
        services, content, path.name, chunk_size=args.chunk_size, progress=progress
    )
    for error in imported.errors[:20]:
        print(f"Baris {error['row']} kolom {error['column']}: {error['reason']}", file=sys.stderr)
    settling = rounds.wait_until_settled(
        services,
        data.fiscal_year,
        timeout=args.timeout,
        quiet=args.quiet_period,
        progress=progress,
    )
    summary = rounds.summarise(
        services,
        data.fiscal_year,
        assessed_on=args.today,
        imported=imported,
        settling=settling,
    )
    summary["csv"] = str(path)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"Berkas penilaian: {path} ({len(rows)} baris)")
        print(rounds.render(summary))
    if not settling.settled:
        return EXIT_UNSETTLED
    return EXIT_REJECTED if imported.rejected else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
