"""Demo data of the reference deployment: the ASN working in Kecamatan Plaju, Kota Palembang.

This module is the only place that knows Plaju (../shared/domain.md §6). It is seed and demo
data, generated deterministically from a seed with ``random.Random``:

- units: Pemerintah Kota Palembang → the Kecamatan Plaju office and its 7 kelurahan offices;
  Dinas Kesehatan → UPTD Puskesmas Plaju; Dinas Pendidikan → public primary (SD Negeri) and
  junior (SMP Negeri) schools in Plaju; five city offices, each with a field unit in Plaju;
- jabatan per unit with technical competencies (the managerial and socio-cultural standard
  comes from the competency service's grade defaults);
- employees (about 600) with valid NIPs, Indonesian names, golongan fitting their post,
  e-mail at a demo domain and their unit head as supervisor;
- a catalogue of about 40 programmes with batches from ``today`` to the end of the year;
- each unit's training budget for the year (generous, moderate, tight, or none at all);
- BKPSDM administrators and unit HR operators to notify.

School numbers, people and the private partner firm are invented; unit names, budget codes
[~ domain.md §4] and the costs of domain.md §4 follow public sources.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .dataset import (
    Allocation,
    AssessmentRow,
    Batch,
    Competency,
    Dataset,
    Employee,
    Jabatan,
    Official,
    Post,
    Programme,
    Unit,
    apportion,
    ascii_slug,
    birth_and_appointment,
    compose_nip,
    golongan_for,
    head_post,
    phone_number,
    single_post,
    unique,
)
from .dataset import assessment_round as _assessment_round

DEFAULT_SEED = 2026
DEFAULT_EMPLOYEES = 600
EMAIL_DOMAIN = "plaju.example"
# People's ages and years of service are fixed on this day, so the same seed gives the same
# NIPs whenever the demo runs; batches and the fiscal year follow the run's own date.
PEOPLE_AS_OF = date(2026, 1, 1)
ENGLISH_SPEAKERS = 0.02  # share of employees who read their notifications in English

SUB_ACTIVITY = ("01.2.05.0009", "Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas dan Fungsi")
ACCOUNT = ("5.1.02.02.12.0001", "Belanja Kursus Singkat/Pelatihan")
# Training budget per employee of a unit, by how generous its allocation is.
BUDGET_PER_HEAD = {"longgar": 4_000_000, "sedang": 2_500_000, "ketat": 500_000}
BUDGET_MINIMUM = {"longgar": 10_000_000, "sedang": 5_000_000, "ketat": 1_500_000}


# --- technical competencies ---------------------------------------------------------------


def _technical(code: str, name: str, subject: str) -> Competency:
    return Competency(
        code,
        name,
        f"Kompetensi teknis: {subject}.",
        (
            f"Memahami dasar-dasar {subject}.",
            f"Menerapkan {subject} pada tugas rutin dengan bimbingan.",
            f"Menerapkan {subject} secara mandiri dan menyelesaikan masalah yang lazim.",
            f"Mengembangkan {subject} di unit kerja dan membimbing rekan kerja.",
            f"Menjadi rujukan serta merumuskan kebijakan {subject}.",
        ),
    )


TECHNICAL = (
    _technical(
        "T.PEM.01", "Tata Kelola Pemerintahan Wilayah", "administrasi pemerintahan kewilayahan"
    ),
    _technical("T.TIK.01", "Layanan Publik Digital", "teknologi informasi untuk layanan publik"),
    _technical(
        "T.PAR.01", "Pengelolaan Destinasi Wisata", "pengelolaan dan pemasaran destinasi wisata"
    ),
    _technical("T.KES.01", "Pelayanan Kesehatan Dasar", "pelayanan kesehatan tingkat pertama"),
    _technical("T.KEP.01", "Asuhan Keperawatan", "asuhan keperawatan"),
    _technical("T.KEB.01", "Asuhan Kebidanan", "asuhan kebidanan"),
    _technical("T.PDD.01", "Pembelajaran dan Asesmen", "pembelajaran dan asesmen murid"),
    _technical("T.HUB.01", "Manajemen Lalu Lintas", "manajemen lalu lintas dan angkutan"),
    _technical("T.LH.01", "Pengelolaan Sampah", "pengelolaan sampah dan kebersihan"),
    _technical("T.DUK.01", "Administrasi Kependudukan", "pelayanan administrasi kependudukan"),
    _technical("T.SOS.01", "Pelayanan Sosial", "pendampingan dan rehabilitasi sosial"),
    _technical("T.DMK.01", "Pemadaman dan Penyelamatan", "pencegahan, pemadaman dan penyelamatan"),
)


# --- posts --------------------------------------------------------------------------------

GOVERNMENT = (", S.STP", ", S.STP, M.Si", ", S.Sos", ", S.IP", ", S.H.", ", S.E., M.M.")
ADMIN = ("", "", ", S.E.", ", S.Sos", ", A.Md.", ", S.Kom")
TEACHER = (", S.Pd.", ", S.Pd.", ", S.Pd., M.Pd.", ", S.Pd.I", ", S.Si.")
NURSE = (", S.Kep., Ns.", ", A.Md.Kep.", ", A.Md.Kep.")
MIDWIFE = (", A.Md.Keb.", ", S.Tr.Keb.", ", A.Md.Keb.")
FIELD = {"graduate_entry": 0.1, "with_email": 0.7}  # field staff: mostly school leavers

# The post tables below are data: one post per line reads better than one argument per line.
# fmt: off


def kecamatan_posts() -> tuple[Post, ...]:
    gov = {"back_titles": GOVERNMENT}
    return (
        head_post("CAMAT", "Camat", "administrator",
                  technical={"T.PEM.01": 3, "T.PAR.01": 3}, **gov),
        single_post("SEKCAM", "Sekretaris Kecamatan", "administrator",
                    technical={"T.PEM.01": 3, "T.TIK.01": 2}, **gov),
        single_post("KASUBAG-UMUM", "Kepala Subbagian Umum dan Kepegawaian", "pengawas",
                    technical={"T.TIK.01": 2}, **gov),
        single_post("KASUBAG-KEU", "Kepala Subbagian Perencanaan dan Keuangan", "pengawas",
                    technical={"T.PEM.01": 2}, **gov),
        single_post("KASI-PEM", "Kepala Seksi Pemerintahan", "pengawas",
                    technical={"T.PEM.01": 3}, **gov),
        single_post("KASI-TRANTIB", "Kepala Seksi Ketenteraman dan Ketertiban Umum", "pengawas",
                    technical={"T.PEM.01": 2}, **gov),
        single_post("KASI-PMK", "Kepala Seksi Pemberdayaan Masyarakat dan Kelurahan",
                    "pengawas", technical={"T.PAR.01": 2}, **gov),
        single_post("KASI-KESOS", "Kepala Seksi Kesejahteraan Sosial", "pengawas",
                    technical={"T.SOS.01": 2}, **gov),
        single_post("KASI-YANUM", "Kepala Seksi Pelayanan Umum", "pengawas",
                    technical={"T.TIK.01": 3}, **gov),
        Post("PRAKOM", "Pranata Komputer Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.TIK.01": 3}, weight=1, back_titles=(", S.Kom", ", S.T.")),
        Post("ANJAK", "Analis Kebijakan Ahli Muda", "fungsional", "ahli_muda",
             {"T.PEM.01": 3}, weight=1, **gov),
        Post("PENGADM", "Pengadministrasi Perkantoran", "pelaksana", None,
             {"T.TIK.01": 2}, weight=8, back_titles=ADMIN),
        Post("PELAYANAN", "Pengelola Layanan Operasional", "pelaksana", None,
             {"T.TIK.01": 2, "T.PEM.01": 2}, weight=7, back_titles=ADMIN),
        Post("TRANTIB", "Pengelola Ketenteraman dan Ketertiban", "pelaksana", None,
             {"T.PEM.01": 2}, weight=5, back_titles=ADMIN, **FIELD),
        Post("PARIWISATA", "Pengelola Potensi Wisata dan Ekonomi Kreatif", "pelaksana", None,
             {"T.PAR.01": 2}, weight=2, back_titles=ADMIN),
    )


def kelurahan_posts(tourism: bool) -> tuple[Post, ...]:
    """A kelurahan office; one with a tourist destination also develops tourism."""
    extra = {"T.PAR.01": 2} if tourism else {}
    gov = {"back_titles": GOVERNMENT}
    return (
        head_post("LURAH", "Lurah", "pengawas", technical={"T.PEM.01": 3, **extra}, **gov),
        single_post("SEKLUR", "Sekretaris Kelurahan", "pengawas",
                    technical={"T.PEM.01": 2, "T.TIK.01": 2}, **gov),
        single_post("KASI-PEM", "Kepala Seksi Pemerintahan dan Pelayanan Umum", "pengawas",
                    technical={"T.PEM.01": 2}, **gov),
        single_post("KASI-PMK", "Kepala Seksi Pemberdayaan Masyarakat dan Pembangunan",
                    "pengawas", technical={"T.PEM.01": 2, **extra}, **gov),
        single_post("KASI-TRANTIB", "Kepala Seksi Ketenteraman dan Ketertiban", "pengawas",
                    technical={"T.PEM.01": 2}, **gov),
        Post("PENGADM", "Pengadministrasi Umum", "pelaksana", None, {"T.TIK.01": 2},
             weight=4, back_titles=ADMIN),
        Post("PELAYANAN", "Pengelola Layanan Kelurahan", "pelaksana", None,
             {"T.TIK.01": 2, "T.PEM.01": 2}, weight=4, back_titles=ADMIN),
    )


def puskesmas_posts() -> tuple[Post, ...]:
    dr, health = {"front_titles": ("dr.",), "women": 0.75}, {"women": 0.75}
    return (
        head_post("KAPUS", "Kepala Puskesmas (Dokter Ahli Madya)", "fungsional", "ahli_madya",
                  technical={"T.KES.01": 4}, back_titles=("", ", M.Kes."), **dr),
        single_post("KASUBAG-TU", "Kepala Subbagian Tata Usaha", "pengawas",
                    technical={"T.TIK.01": 2}, back_titles=(", S.KM", ", S.E.")),
        Post("DOKTER-AP", "Dokter Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.KES.01": 3}, weight=3, **dr),
        Post("DOKTER-AM", "Dokter Ahli Muda", "fungsional", "ahli_muda",
             {"T.KES.01": 4}, weight=2, **dr),
        Post("DRG-AP", "Dokter Gigi Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.KES.01": 3}, weight=2, front_titles=("drg.",), **health),
        Post("PERAWAT-TR", "Perawat Terampil", "fungsional", "terampil",
             {"T.KEP.01": 2}, weight=7, back_titles=NURSE, women=0.7),
        Post("PERAWAT-MH", "Perawat Mahir", "fungsional", "mahir",
             {"T.KEP.01": 3}, weight=5, back_titles=NURSE, women=0.7),
        Post("PERAWAT-AP", "Perawat Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.KEP.01": 3}, weight=5, back_titles=NURSE, women=0.7),
        Post("PERAWAT-AM", "Perawat Ahli Muda", "fungsional", "ahli_muda",
             {"T.KEP.01": 4}, weight=2, back_titles=NURSE, women=0.7),
        Post("BIDAN-TR", "Bidan Terampil", "fungsional", "terampil",
             {"T.KEB.01": 2}, weight=7, back_titles=MIDWIFE, women=1.0),
        Post("BIDAN-MH", "Bidan Mahir", "fungsional", "mahir",
             {"T.KEB.01": 3}, weight=5, back_titles=MIDWIFE, women=1.0),
        Post("BIDAN-AP", "Bidan Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.KEB.01": 3}, weight=3, back_titles=MIDWIFE, women=1.0),
        Post("APOTEKER", "Apoteker Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.KES.01": 3}, weight=2, back_titles=(", S.Farm., Apt.",), **health),
        Post("ASISTEN-APT", "Asisten Apoteker Terampil", "fungsional", "terampil",
             {"T.KES.01": 2}, weight=2, back_titles=(", A.Md.Farm.",), **health),
        Post("SANITARIAN", "Sanitarian Terampil", "fungsional", "terampil",
             {"T.LH.01": 2, "T.KES.01": 2}, weight=2, back_titles=(", A.Md.KL",)),
        Post("NUTRISIONIS", "Nutrisionis Terampil", "fungsional", "terampil",
             {"T.KES.01": 2}, weight=2, back_titles=(", A.Md.Gz.",), **health),
        Post("PRANATA-LAB", "Pranata Laboratorium Kesehatan Terampil", "fungsional", "terampil",
             {"T.KES.01": 2}, weight=2, back_titles=(", A.Md.AK",), **health),
        Post("PENGADM", "Pengadministrasi Umum", "pelaksana", None,
             {"T.TIK.01": 2}, weight=3, back_titles=ADMIN),
        Post("REKAM-MEDIS", "Pengelola Data Rekam Medis", "pelaksana", None,
             {"T.TIK.01": 2, "T.KES.01": 2}, weight=3, back_titles=(", A.Md.RMIK", "")),
    )


def school_posts(teachers: int, staff: int) -> tuple[Post, ...]:
    """A public school: its head is a teacher with the additional task, then the teachers
    by grade (about 35 / 40 / 25 %) and the administrative staff."""
    first, second = round(teachers * 0.35), round(teachers * 0.40)
    teaching = {"women": 0.7, "back_titles": TEACHER}
    return (
        head_post("KASEK", "Kepala Sekolah (Guru Ahli Madya)", "fungsional", "ahli_madya",
                  technical={"T.PDD.01": 4}, **teaching),
        Post("GURU-AP", "Guru Ahli Pertama", "fungsional", "ahli_pertama",
             {"T.PDD.01": 2}, weight=first, **teaching),
        Post("GURU-AM", "Guru Ahli Muda", "fungsional", "ahli_muda",
             {"T.PDD.01": 3}, weight=second, **teaching),
        Post("GURU-AMD", "Guru Ahli Madya", "fungsional", "ahli_madya",
             {"T.PDD.01": 4}, weight=teachers - first - second, **teaching),
        Post("TU", "Pengadministrasi Sekolah", "pelaksana", None,
             {"T.TIK.01": 2}, weight=staff, back_titles=ADMIN),
    )


DISHUB_POSTS = (
    head_post("KAPOS", "Kepala Pos Pengendalian Lalu Lintas Plaju", "pengawas",
              technical={"T.HUB.01": 3}, back_titles=(", S.SiT", ", A.TD, M.T.", ", S.E.")),
    Post("PKB", "Penguji Kendaraan Bermotor Terampil", "fungsional", "terampil",
         {"T.HUB.01": 2}, weight=4, back_titles=(", A.Md.LLAJ", ""), women=0.15),
    Post("PETUGAS-LL", "Petugas Pengatur Lalu Lintas", "pelaksana", None,
         {"T.HUB.01": 2}, weight=26, women=0.15, **FIELD),
    Post("PARKIR", "Pengelola Perparkiran", "pelaksana", None,
         {"T.HUB.01": 2}, weight=6, women=0.25, **FIELD),
)
DLHK_POSTS = (
    head_post("KORLAP", "Koordinator Kebersihan Kecamatan Plaju", "pengawas",
              technical={"T.LH.01": 3}, back_titles=(", S.T.", ", S.Si.", "")),
    Post("PLH", "Pengawas Lingkungan Hidup Ahli Pertama", "fungsional", "ahli_pertama",
         {"T.LH.01": 3}, weight=3, back_titles=(", S.T.", ", S.Si.")),
    Post("PETUGAS-KEBERSIHAN", "Petugas Kebersihan", "pelaksana", None,
         {"T.LH.01": 2}, weight=40, women=0.2, **FIELD),
    Post("PENGEMUDI", "Pengemudi Armada Sampah", "pelaksana", None,
         {"T.LH.01": 2}, weight=12, women=0.0, **FIELD),
)
DISDUKCAPIL_POSTS = (
    head_post("KOORDINATOR", "Koordinator Pelayanan Adminduk Kecamatan Plaju", "pengawas",
              technical={"T.DUK.01": 3}, back_titles=GOVERNMENT),
    Post("ADMINDUK", "Administrator Database Kependudukan Terampil", "fungsional", "terampil",
         {"T.DUK.01": 2, "T.TIK.01": 2}, weight=4, back_titles=(", A.Md.",)),
    Post("OPERATOR-SIAK", "Operator SIAK", "pelaksana", None,
         {"T.DUK.01": 2, "T.TIK.01": 2}, weight=8, back_titles=ADMIN),
)
DINSOS_POSTS = (
    head_post("KOORDINATOR", "Koordinator Pelayanan Sosial Kecamatan Plaju", "pengawas",
              technical={"T.SOS.01": 3}, back_titles=(", S.Sos", ", S.ST.")),
    Post("PEKSOS", "Pekerja Sosial Ahli Pertama", "fungsional", "ahli_pertama",
         {"T.SOS.01": 3}, weight=3, back_titles=(", S.Tr.Sos", ", S.Sos")),
    Post("PENYULUH", "Penyuluh Sosial Terampil", "fungsional", "terampil",
         {"T.SOS.01": 2}, weight=3, back_titles=(", A.Md.",)),
    Post("PENDAMPING", "Pendamping Sosial", "pelaksana", None,
         {"T.SOS.01": 2}, weight=6, back_titles=ADMIN),
)
DAMKAR_POSTS = (
    head_post("KAPOS", "Kepala Pos Pemadam Kebakaran Plaju", "pengawas",
              technical={"T.DMK.01": 3}, back_titles=("", ", S.T."), women=0.05),
    Post("DAMKAR-TR", "Pemadam Kebakaran Terampil", "fungsional", "terampil",
         {"T.DMK.01": 2}, weight=18, women=0.05, **FIELD),
    Post("DAMKAR-MH", "Pemadam Kebakaran Mahir", "fungsional", "mahir",
         {"T.DMK.01": 3}, weight=8, women=0.05, **FIELD),
    Post("DAMKAR-PY", "Pemadam Kebakaran Penyelia", "fungsional", "penyelia",
         {"T.DMK.01": 3}, weight=4, women=0.05, **FIELD),
    Post("OPERATOR", "Operator Mobil Pemadam dan Komunikasi", "pelaksana", None,
         {"T.DMK.01": 2}, weight=10, women=0.1, **FIELD),
)

# fmt: on


# --- units --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Office:
    """A unit, the posts it has, how its training budget stands and who pays (urusan code)."""

    unit: Unit
    posts: tuple[Post, ...] = ()
    budget: str | None = None  # longgar, sedang, ketat; None: no allocation this year
    urusan: str = "x.xx"


CITY = "PLG"
# fmt: off
# (code, name, budget, develops a tourist destination)
KELURAHAN = (
    ("PLAJU-DARAT", "Plaju Darat", "sedang", False),
    ("TALANG-PUTRI", "Talang Putri", "sedang", False),
    ("KOMPERTA", "Komperta", "ketat", False),
    ("PLAJU-ILIR", "Plaju Ilir", "sedang", False),
    ("TALANG-BUBUK", "Talang Bubuk", "ketat", False),
    ("PLAJU-ULU", "Plaju Ulu", "sedang", False),
    ("BAGUS-KUNING", "Bagus Kuning", "longgar", True),  # riverside tourism on the Musi
)
# (number, teachers, administrative staff, budget); the school numbers are illustrative
PRIMARY_SCHOOLS = (
    (112, 13, 1, "sedang"), (143, 14, 1, "sedang"), (151, 15, 2, "longgar"),
    (157, 13, 1, "sedang"), (163, 14, 1, "ketat"), (171, 12, 1, "sedang"),
    (178, 14, 2, "sedang"),
)
JUNIOR_SCHOOLS = ((12, 36, 3, "sedang"), (34, 33, 3, "ketat"))
# city offices with field staff in Plaju: (code, office, field unit, posts, budget, urusan)
FIELD_OFFICES = (
    ("DISHUB", "Dinas Perhubungan", "Pos Pengendalian Lalu Lintas Plaju",
     DISHUB_POSTS, "sedang", "2.15"),
    ("DLHK", "Dinas Lingkungan Hidup dan Kebersihan", "Unit Kebersihan Kecamatan Plaju",
     DLHK_POSTS, "ketat", "2.11"),
    ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil",
     "Pelayanan Adminduk Kecamatan Plaju", DISDUKCAPIL_POSTS, "sedang", "2.12"),
    ("DINSOS", "Dinas Sosial", "Pelayanan Sosial Kecamatan Plaju",
     DINSOS_POSTS, None, "1.06"),
    ("DAMKAR", "Dinas Pemadam Kebakaran dan Penyelamatan", "Pos Pemadam Kebakaran Plaju",
     DAMKAR_POSTS, "sedang", "1.05"),
)
SCHOOL_LEVELS = (("SDN", "SD Negeri", PRIMARY_SCHOOLS), ("SMPN", "SMP Negeri", JUNIOR_SCHOOLS))
# fmt: on


def offices() -> tuple[Office, ...]:
    """Every unit, parents before children."""
    city = Unit(CITY, "Pemerintah Kota Palembang", "pemda")
    kecamatan = Unit(f"{CITY}-KEC-PLAJU", "Kecamatan Plaju", "kecamatan", CITY)
    result = [Office(city), Office(kecamatan, kecamatan_posts(), "longgar", "7.01")]
    for code, name, budget, tourism in KELURAHAN:
        unit = Unit(f"{CITY}-KEL-{code}", f"Kelurahan {name}", "kelurahan", kecamatan.code)
        result.append(Office(unit, kelurahan_posts(tourism), budget, "7.01"))
    dinkes = Unit(f"{CITY}-DINKES", "Dinas Kesehatan", "opd", CITY)
    puskesmas = Unit(f"{CITY}-PKM-PLAJU", "UPTD Puskesmas Plaju", "puskesmas", dinkes.code)
    result += [Office(dinkes), Office(puskesmas, puskesmas_posts(), "longgar", "1.02")]
    disdik = Unit(f"{CITY}-DISDIK", "Dinas Pendidikan", "opd", CITY)
    result.append(Office(disdik))
    for level, prefix, schools in SCHOOL_LEVELS:
        for number, teachers, staff, budget in schools:
            name = f"{prefix} {number} Palembang"
            unit = Unit(f"{CITY}-{level}-{number}", name, "sekolah", disdik.code)
            result.append(Office(unit, school_posts(teachers, staff), budget, "1.01"))
    for code, name, field_name, posts, budget, urusan in FIELD_OFFICES:
        office = Unit(f"{CITY}-{code}", name, "opd", CITY)
        field = Unit(f"{office.code}-PLAJU", field_name, "lapangan", office.code)
        result += [Office(office), Office(field, posts, budget, urusan)]
    return tuple(result)


# --- people -------------------------------------------------------------------------------

# fmt: off
MEN = (
    "Ahmad", "Muhammad", "Rizky", "Fajar", "Agus", "Budi", "Dedi", "Hendra", "Iwan", "Joko",
    "Andi", "Yudi", "Rudi", "Eko", "Firman", "Hadi", "Irwan", "Arief", "Bambang", "Dimas",
    "Doni", "Rahmat", "Syahrial", "Zulkifli", "Novri", "Ferry", "Taufik", "Yusuf", "Ilham",
    "Ridwan", "Hasan", "Husin", "Abdullah", "Darmawan", "Heri", "Imam", "Khairul", "Mulyadi",
    "Nanang", "Reza", "Sandi", "Teguh", "Wahyu", "Yoga", "Zainal", "Alamsyah", "Aidil",
    "Fikri", "Hafiz", "Ihsan", "Jefri", "Lutfi", "Marzuki", "Nopriansyah", "Rendi", "Sofyan",
    "Herman", "Edi", "Candra", "Bayu",
)
WOMEN = (
    "Siti", "Dewi", "Rina", "Sri", "Nur", "Fitri", "Yuliana", "Wulan", "Ayu", "Indah",
    "Maya", "Novi", "Putri", "Ratna", "Tuti", "Vera", "Winda", "Yanti", "Zahra", "Aisyah",
    "Fatimah", "Lina", "Mega", "Nadia", "Rahma", "Susanti", "Eka", "Desi", "Elvira", "Hana",
    "Intan", "Juwita", "Kartika", "Laila", "Meiliana", "Nurhayati", "Oktaviani", "Purnama",
    "Rosmala", "Suryani", "Umi", "Vivi", "Yuni", "Anggraini", "Cahaya", "Dian", "Erna",
    "Febriyanti", "Herlina", "Irma", "Marlina", "Nining", "Riska", "Septi", "Halimah",
    "Zubaidah", "Mardiana", "Emilia", "Citra", "Lusiana",
)
SECOND_MEN = (
    "Saputra", "Pratama", "Wijaya", "Kurniawan", "Setiawan", "Hidayat", "Gunawan",
    "Firmansyah", "Ramadhan", "Syahputra", "Nugroho", "Santoso", "Hakim", "Maulana",
    "Fadillah", "Permana", "Irawan", "Hermawan", "Rizal", "Efendi",
)
SECOND_WOMEN = (
    "Lestari", "Rahmawati", "Sari", "Wulandari", "Puspitasari", "Handayani", "Kusumawati",
    "Permatasari", "Safitri", "Novianti", "Damayanti", "Maharani", "Utami", "Fitriani",
    "Yulianti", "Agustina", "Kurniasih", "Rahayu", "Anjani", "Pertiwi",
)
FAMILIES = (
    "Nasution", "Siregar", "Harahap", "Hasibuan", "Lubis", "Simanjuntak", "Sembiring",
    "Panjaitan", "Tanjung", "Chaniago", "Sinaga", "Effendi", "Alamsyah", "Matondang",
)
# fmt: on
# Palembang's aristocratic titles, still written before many names
NOBLE = {"L": ("Kgs.", "Kms.", "Mgs.", "R.M."), "P": ("Nyimas", "Nyayu", "Masayu", "R.A.")}


def person_name(rng: random.Random, sex: str, post: Post | None = None) -> tuple[str, str]:
    """A full name as written on a decree, and the plain name an e-mail address is made of."""
    given = rng.choice(MEN if sex == "L" else WOMEN)
    parts = [given]
    if rng.random() < 0.75:
        parts.append(rng.choice(SECOND_MEN if sex == "L" else SECOND_WOMEN))
    if rng.random() < 0.2:
        parts.append(rng.choice(FAMILIES))
    plain = f"{parts[0]} {parts[-1]}" if len(parts) > 1 else parts[0]
    name = " ".join(parts)
    if rng.random() < 0.08:
        name = f"{rng.choice(NOBLE[sex])} {name}"
    if post is not None:
        front = rng.choice(post.front_titles)
        back = rng.choice(post.back_titles)
        name = f"{front} {name}".strip() + back
    return name, plain


@dataclass
class _People:
    """What must stay unique across everyone generated."""

    nips: set[str]
    emails: set[str]

    def nip(self, rng: random.Random, birth: date, appointed: date, sex: str) -> str:
        while True:
            nip = compose_nip(birth, appointed, sex, rng.randint(1, 120))
            if nip not in self.nips:
                self.nips.add(nip)
                return nip

    def email(self, plain: str) -> str:
        local = unique(ascii_slug(plain), self.emails)
        return f"{local}@{EMAIL_DOMAIN}"


def _employee(
    rng: random.Random, people: _People, office: Office, post: Post, supervisor: str | None
) -> Employee:
    sex = "P" if rng.random() < post.women else "L"
    birth, appointed = birth_and_appointment(rng, PEOPLE_AS_OF, post.ages, (19, 35))
    name, plain = person_name(rng, sex, post)
    years = PEOPLE_AS_OF.year - appointed.year
    return Employee(
        nip=people.nip(rng, birth, appointed, sex),
        name=name,
        sex=sex,
        golongan=golongan_for(post.entry_golongan(rng), years, *post.ranks),
        unit_code=office.unit.code,
        jabatan_code=jabatan_code(office, post),
        email=people.email(plain) if rng.random() < post.with_email else None,
        phone=phone_number(rng) if rng.random() < 0.7 else None,
        supervisor_nip=supervisor,
        language="en" if rng.random() < ENGLISH_SPEAKERS else "id",
    )


def jabatan_code(office: Office, post: Post) -> str:
    return f"{office.unit.code}.{post.key}"


def headcounts(all_offices: Iterable[Office], employees: int) -> dict[tuple[str, str], int]:
    """How many hold each post: every unit keeps its head, the rest scales with ``employees``."""
    posts = [(office, post) for office in all_offices for post in office.posts]
    heads = [(o, p) for o, p in posts if p.head]
    others = [(o, p) for o, p in posts if not p.head]
    if employees < len(heads):
        raise ValueError(f"paling sedikit {len(heads)} pegawai: satu kepala untuk setiap unit")
    counts = apportion(
        [p.weight for _, p in others], employees - len(heads), [p.cap for _, p in others]
    )
    result = {(o.unit.code, p.key): 1 for o, p in heads}
    result.update({(o.unit.code, p.key): n for (o, p), n in zip(others, counts, strict=True)})
    return result


def _employees(rng: random.Random, all_offices: tuple[Office, ...], count: int) -> list[Employee]:
    people = _People(set(), set())
    counts = headcounts(all_offices, count)
    heads: dict[str, str] = {}  # unit code → its head's NIP
    parents = {office.unit.code: office.unit.parent_code for office in all_offices}
    result = []
    for office in all_offices:  # parents first: a head's supervisor is the parent unit's head
        for post in sorted(office.posts, key=lambda p: not p.head):
            for _ in range(counts[(office.unit.code, post.key)]):
                supervisor = (
                    _nearest_head(office.unit.parent_code, heads, parents)
                    if post.head
                    else heads.get(office.unit.code)
                )
                employee = _employee(rng, people, office, post, supervisor)
                if post.head:
                    heads[office.unit.code] = employee.nip
                result.append(employee)
    return result


def _nearest_head(
    code: str | None, heads: Mapping[str, str], parents: Mapping[str, str | None]
) -> str | None:
    while code is not None:
        if code in heads:
            return heads[code]
        code = parents.get(code)
    return None


# --- the catalogue --------------------------------------------------------------------------

BPSDM = "BPSDM Provinsi Sumatera Selatan"
BPSDM_CAMPUS = "Kampus BPSDM Provinsi Sumatera Selatan"
BKPSDM = "BKPSDM Kota Palembang"
BKPSDM_HALL = "Aula BKPSDM Kota Palembang"
BAPELKES = "Bapelkes Provinsi Sumatera Selatan"
DISHUB = "Dinas Perhubungan Kota Palembang"
DISHUB_HALL = "Aula Dinas Perhubungan Kota Palembang"
TOURISM = "Dinas Kebudayaan dan Pariwisata Kota Palembang"
DAMKAR = "Dinas Pemadam Kebakaran dan Penyelamatan"
ONLINE = "Platform pembelajaran ASN nasional (daring)"


@dataclass(frozen=True)
class Offer:
    """A programme of the catalogue before its batches are dated."""

    code: str
    title: str
    form: str
    activity: str
    jp: int
    cost_rupiah: int
    provider: str
    competencies: Mapping[str, int]
    days: int  # how long a batch runs
    batches: int = 1
    place: str | None = None  # None: online
    capacity: int = 30


# fmt: off
CATALOGUE = (
    # leadership and managerial (the administrator leadership tariff: domain.md §4)
    Offer("PKA-2026", "Pelatihan Kepemimpinan Administrator (PKA)", "klasikal",
          "pelatihan_kepemimpinan", 254, 22_783_750, BPSDM,
          {"M.02": 4, "M.03": 4, "M.04": 4, "M.06": 4, "M.07": 4, "M.08": 4}, 40,
          place=BPSDM_CAMPUS, capacity=40),
    Offer("PKP-2026", "Pelatihan Kepemimpinan Pengawas (PKP)", "klasikal",
          "pelatihan_kepemimpinan", 240, 17_850_000, BPSDM,
          {"M.02": 3, "M.04": 3, "M.06": 3, "M.07": 3, "M.08": 3}, 35,
          place=BPSDM_CAMPUS, capacity=40),
    Offer("MNJ-INTEGRITAS", "Pelatihan Integritas dan Budaya Antikorupsi", "klasikal",
          "pelatihan_manajerial", 32, 2_400_000, BKPSDM, {"M.01": 3}, 4, batches=2,
          place=BKPSDM_HALL),
    Offer("MNJ-INTEGRITAS-LANJUT", "Kepemimpinan Berintegritas bagi Pejabat", "klasikal",
          "pelatihan_manajerial", 24, 4_600_000, "Inspektorat Kota Palembang", {"M.01": 4}, 3,
          place="Aula Inspektorat Kota Palembang"),
    Offer("MNJ-KERJASAMA", "Membangun Tim Kerja yang Efektif", "klasikal",
          "pelatihan_manajerial", 30, 2_250_000, BKPSDM, {"M.02": 3}, 4, place=BKPSDM_HALL),
    Offer("MNJ-KOMUNIKASI", "Komunikasi Efektif dan Berbicara di Depan Publik", "klasikal",
          "pelatihan_manajerial", 30, 2_350_000, BKPSDM, {"M.03": 3}, 4, batches=2,
          place=BKPSDM_HALL),
    Offer("MNJ-HASIL", "Manajemen Kinerja dan Orientasi pada Hasil", "klasikal",
          "pelatihan_manajerial", 32, 2_600_000, BKPSDM, {"M.04": 3}, 4, place=BKPSDM_HALL),
    Offer("MNJ-PELAYANAN", "Pelayanan Publik Prima", "klasikal", "pelatihan_manajerial", 30,
          2_150_000, BKPSDM, {"M.05": 3}, 4, batches=2, place="Kantor Camat Plaju"),
    Offer("MNJ-INOVASI-LAYANAN", "Standar dan Inovasi Pelayanan Publik", "klasikal",
          "pelatihan_manajerial", 40, 5_400_000, BPSDM, {"M.05": 4, "M.07": 3}, 5,
          place=BPSDM_CAMPUS),
    Offer("MNJ-COACHING", "Coaching dan Mentoring bagi Atasan Langsung", "nonklasikal",
          "coaching", 16, 1_950_000, BKPSDM, {"M.06": 3}, 14, batches=2,
          place="Di tempat kerja masing-masing"),
    Offer("MNJ-PERUBAHAN", "Manajemen Perubahan dan Inovasi Sektor Publik", "klasikal",
          "pelatihan_manajerial", 32, 2_900_000, BPSDM, {"M.07": 3}, 4, place=BPSDM_CAMPUS),
    Offer("MNJ-KEPUTUSAN", "Pengambilan Keputusan Berbasis Data", "klasikal",
          "pelatihan_manajerial", 30, 2_700_000, BKPSDM, {"M.08": 3}, 4, place=BKPSDM_HALL),
    Offer("SK-KEBANGSAAN", "Wawasan Kebangsaan dan Moderasi Beragama", "klasikal",
          "pelatihan_sosial_kultural", 24, 1_800_000, "Badan Kesbangpol Kota Palembang",
          {"SK.01": 3}, 3, batches=2, place="Aula Kesbangpol Kota Palembang"),
    Offer("SK-PEREKAT", "Perekat Bangsa: Memimpin dalam Keberagaman", "klasikal",
          "pelatihan_sosial_kultural", 32, 4_250_000, BPSDM, {"SK.01": 4}, 4,
          place=BPSDM_CAMPUS),
    Offer("PATOK-BANDING", "Patok Banding Inovasi Pelayanan Kecamatan", "nonklasikal",
          "patok_banding", 16, 6_800_000, BKPSDM, {"M.07": 4, "M.05": 4}, 3,
          place="Kota Surabaya", capacity=20),
    # free e-learning (domain.md §4): introductory, up to level 2
    Offer("EL-INTEGRITAS", "E-Learning Integritas dan Etika ASN", "nonklasikal", "e_learning",
          20, 0, ONLINE, {"M.01": 2, "SK.01": 2}, 30, capacity=1000),
    Offer("EL-PELAYANAN", "E-Learning Pelayanan Publik dan Komunikasi", "nonklasikal",
          "e_learning", 20, 0, ONLINE, {"M.05": 2, "M.03": 2}, 30, capacity=1000),
    Offer("EL-DIGITAL", "E-Learning Literasi Digital dan Budaya Kerja Baru", "nonklasikal",
          "e_learning", 20, 0, ONLINE, {"M.07": 2, "T.TIK.01": 2}, 30, capacity=1000),
    Offer("EL-KINERJA", "Kursus Daring Kerja Sama dan Orientasi Hasil", "nonklasikal",
          "e_learning", 10, 0, ONLINE, {"M.02": 2, "M.04": 2}, 14, capacity=1000),
    Offer("EL-GURU", "Kursus Daring Pembelajaran Berdiferensiasi", "nonklasikal", "e_learning",
          20, 0, "Platform belajar guru (daring)", {"T.PDD.01": 2}, 30, capacity=1000),
    # technical (a 1-3 day bimtek costs Rp 2-7 million: domain.md §4)
    Offer("TEK-WISATA", "Pengelolaan dan Pemasaran Destinasi Wisata Tepian Musi", "klasikal",
          "pelatihan_teknis", 40, 6_250_000, TOURISM, {"T.PAR.01": 3}, 5,
          place="Kampung Wisata Bagus Kuning"),
    Offer("TEK-WISATA-DIGITAL", "Pemasaran Digital Destinasi Wisata", "klasikal",
          "bimbingan_teknis", 24, 3_750_000, TOURISM, {"T.PAR.01": 4, "T.TIK.01": 3}, 3,
          place="Kampung Wisata Bagus Kuning"),
    Offer("TEK-LAYANAN-DIGITAL", "TIK untuk Layanan Publik Digital (SPBE)", "klasikal",
          "bimbingan_teknis", 24, 3_900_000, "Dinas Komunikasi dan Informatika Kota Palembang",
          {"T.TIK.01": 3}, 3, batches=2, place="Command Center Kota Palembang"),
    Offer("MITRA-TEKNOLOGI", "Kemitraan Transformasi Digital bersama Perusahaan Teknologi",
          "nonklasikal", "pertukaran_swasta", 40, 7_000_000,
          "PT Sriwijaya Solusi Digital (mitra swasta)", {"T.TIK.01": 4, "M.07": 3}, 10,
          place="Kantor PT Sriwijaya Solusi Digital, Palembang", capacity=12),
    Offer("TEK-TRANSPORTASI", "Lokakarya Transportasi Berkelanjutan", "klasikal", "lokakarya",
          16, 2_400_000, DISHUB, {"T.HUB.01": 3}, 2, batches=2, place=DISHUB_HALL),
    Offer("TEK-LALU-LINTAS", "Bimtek Manajemen dan Rekayasa Lalu Lintas", "klasikal",
          "bimbingan_teknis", 24, 3_600_000, DISHUB, {"T.HUB.01": 4}, 3, place=DISHUB_HALL),
    Offer("TEK-FKTP", "Tata Laksana Klinis di Fasilitas Kesehatan Tingkat Pertama",
          "klasikal", "pelatihan_teknis", 40, 5_500_000, BAPELKES, {"T.KES.01": 4}, 5,
          place=BAPELKES),
    Offer("TEK-FARMASI-GIZI", "Pelayanan Kefarmasian dan Gizi di Puskesmas", "klasikal",
          "pelatihan_teknis", 24, 3_250_000, "Dinas Kesehatan Kota Palembang",
          {"T.KES.01": 3}, 3, place="Aula Dinas Kesehatan Kota Palembang"),
    Offer("TEK-KEPERAWATAN", "Asuhan Keperawatan Dasar dan Kegawatdaruratan", "klasikal",
          "pelatihan_fungsional", 32, 3_200_000, "Dinas Kesehatan Kota Palembang",
          {"T.KEP.01": 3}, 4, batches=2, place="UPTD Puskesmas Plaju"),
    Offer("TEK-BTCLS", "Basic Trauma Cardiac Life Support (BTCLS)", "klasikal",
          "pelatihan_fungsional", 40, 4_850_000, BAPELKES, {"T.KEP.01": 4, "T.KES.01": 3}, 5,
          place=BAPELKES),
    Offer("TEK-APN", "Asuhan Persalinan Normal (APN)", "klasikal", "pelatihan_fungsional", 40,
          6_800_000, BAPELKES, {"T.KEB.01": 3}, 5, place=BAPELKES),
    Offer("TEK-PONED", "Kegawatdaruratan Maternal dan Neonatal", "klasikal",
          "pelatihan_fungsional", 32, 5_600_000, BAPELKES, {"T.KEB.01": 4}, 4, place=BAPELKES),
    Offer("TEK-PEMBELAJARAN", "Pembelajaran Berdiferensiasi dan Asesmen", "klasikal",
          "pelatihan_teknis", 32, 2_200_000, "Dinas Pendidikan Kota Palembang",
          {"T.PDD.01": 3}, 4, batches=2, place="SMP Negeri 12 Palembang"),
    Offer("TEK-KEPSEK", "Kepemimpinan Pembelajaran bagi Kepala Sekolah", "klasikal",
          "pelatihan_teknis", 40, 4_400_000, "Balai Guru Penggerak Sumatera Selatan",
          {"T.PDD.01": 4, "M.06": 3}, 5, place="Balai Guru Penggerak Sumatera Selatan"),
    Offer("TEK-SAMPAH", "Bimtek Pengelolaan Sampah 3R dan Bank Sampah", "klasikal",
          "bimbingan_teknis", 24, 2_900_000, "Dinas Lingkungan Hidup dan Kebersihan",
          {"T.LH.01": 3}, 3, place="TPS 3R Plaju"),
    Offer("TEK-ADMINDUK", "Bimtek SIAK Terpusat dan Identitas Kependudukan Digital",
          "klasikal", "bimbingan_teknis", 24, 3_300_000,
          "Dinas Kependudukan dan Pencatatan Sipil", {"T.DUK.01": 3, "T.TIK.01": 3}, 3,
          place="Aula Disdukcapil Kota Palembang"),
    Offer("TEK-PEKSOS", "Pendampingan dan Rehabilitasi Sosial", "klasikal",
          "pelatihan_fungsional", 32, 3_800_000, "Dinas Sosial Kota Palembang",
          {"T.SOS.01": 3}, 4, place="Aula Dinas Sosial Kota Palembang"),
    Offer("TEK-DAMKAR", "Pemadaman Kebakaran Tingkat Lanjut", "klasikal",
          "pelatihan_fungsional", 40, 5_900_000, DAMKAR, {"T.DMK.01": 3}, 5,
          place="Markas Komando Damkar Kota Palembang"),
    Offer("TEK-RESCUE", "Penyelamatan (Rescue) di Air dan Ketinggian", "klasikal",
          "pelatihan_fungsional", 40, 6_900_000, DAMKAR, {"T.DMK.01": 4}, 5,
          place="Dermaga Sungai Musi, Plaju"),
    Offer("TEK-PEMERINTAHAN", "Bimtek Tata Kelola Pemerintahan Kecamatan dan Kelurahan",
          "klasikal", "bimbingan_teknis", 24, 2_600_000, "Bagian Tata Pemerintahan Setda",
          {"T.PEM.01": 3}, 3, batches=2, place="Kantor Camat Plaju"),
    Offer("MAGANG-MPP", "Magang Pelayanan Terpadu di Mal Pelayanan Publik", "nonklasikal",
          "magang", 40, 1_750_000, BKPSDM, {"T.PEM.01": 4, "M.05": 3}, 10,
          place="Mal Pelayanan Publik Kota Palembang", capacity=15),
    # further study with universities (pendidikan)
    Offer("S2-MAP", "Tugas Belajar S2 Magister Administrasi Publik", "pendidikan",
          "pendidikan_formal", 40, 38_500_000, "Universitas Sriwijaya",
          {"M.08": 4, "M.04": 4, "T.PEM.01": 4}, 730, place="Universitas Sriwijaya",
          capacity=5),
    Offer("S1-NERS", "Tugas Belajar S1 Keperawatan dan Profesi Ners", "pendidikan",
          "pendidikan_formal", 40, 24_000_000, "Universitas Muhammadiyah Palembang",
          {"T.KEP.01": 4}, 730, place="Universitas Muhammadiyah Palembang", capacity=5),
    Offer("S2-PENDIDIKAN", "Program Magister Pendidikan Dasar", "pendidikan",
          "pendidikan_formal", 40, 27_500_000, "Universitas PGRI Palembang",
          {"T.PDD.01": 4}, 730, place="Universitas PGRI Palembang", capacity=5),
)
# fmt: on


def _programme(rng: random.Random, offer: Offer, today: date) -> Programme:
    """The offer with one or two batches starting between ``today`` and 31 December."""
    last = date(today.year, 12, 31)
    span = (last - today).days
    starts = []
    for number in range(offer.batches):
        low = span * number // offer.batches
        high = span * (number + 1) // offer.batches
        starts.append(today + timedelta(days=rng.randint(min(low + 1, high), high)))
    batches = tuple(
        Batch(
            starts_on=start,
            ends_on=start + timedelta(days=offer.days - 1),
            place=offer.place,
            online=offer.place is None,
            capacity=offer.capacity,
        )
        for start in sorted(starts)
    )
    return Programme(
        offer.code,
        offer.title,
        offer.form,
        offer.activity,
        offer.jp,
        offer.cost_rupiah,
        offer.provider,
        dict(offer.competencies),
        batches,
    )


# --- budgets and officials ------------------------------------------------------------------


def _allocation(office: Office, headcount: int, fiscal_year: int) -> Allocation:
    per_head, minimum = BUDGET_PER_HEAD[office.budget], BUDGET_MINIMUM[office.budget]
    amount = max(minimum, -(-per_head * headcount // 500_000) * 500_000)
    return Allocation(
        unit_code=office.unit.code,
        unit_name=office.unit.name,
        fiscal_year=fiscal_year,
        amount_rupiah=amount,
        sub_activity_code=f"{office.urusan}.{SUB_ACTIVITY[0]}",
        sub_activity_name=SUB_ACTIVITY[1],
        account_code=ACCOUNT[0],
        account_name=ACCOUNT[1],
        reference=f"DPA {office.urusan} {office.unit.code} TA {fiscal_year}",
    )


def _officials(rng: random.Random, staffed: Iterable[Office]) -> list[Official]:
    admins = [
        Official("bkpsdm_admin", person_name(rng, sex, None)[0], f"{local}@{EMAIL_DOMAIN}")
        for sex, local in (("P", "bidang.pengembangan.bkpsdm"), ("L", "admin.bkpsdm"))
    ]
    operators = [
        Official(
            "unit_operator",
            person_name(rng, rng.choice("LP"), None)[0],
            f"kepegawaian.{ascii_slug(office.unit.code)}@{EMAIL_DOMAIN}",
            office.unit.code,
        )
        for office in staffed
    ]
    return admins + operators


# --- the whole dataset ----------------------------------------------------------------------


def build(
    seed: int = DEFAULT_SEED, employees: int = DEFAULT_EMPLOYEES, today: date | None = None
) -> Dataset:
    """The Plaju dataset: the same ``seed``, ``employees`` and ``today``, the same data."""
    today = today or date.today()
    all_offices = offices()
    people = _employees(random.Random(f"plaju-people-{seed}"), all_offices, employees)
    staffed = [office for office in all_offices if office.posts]
    held = {employee.jabatan_code for employee in people}
    per_unit = {office.unit.code: 0 for office in staffed}
    for employee in people:
        per_unit[employee.unit_code] += 1
    dates = random.Random(f"plaju-batches-{seed}-{today.isoformat()}")
    return Dataset(
        fiscal_year=today.year,
        units=tuple(office.unit for office in all_offices),
        competencies=TECHNICAL,
        jabatan=tuple(
            Jabatan(
                jabatan_code(office, post),
                post.name,
                post.kind,
                post.grade,
                office.unit.code,
                dict(post.technical),
                post.head,
            )
            for office in staffed
            for post in office.posts
            if jabatan_code(office, post) in held  # a smaller dataset leaves posts out
        ),
        employees=tuple(people),
        programmes=tuple(_programme(dates, offer, today) for offer in CATALOGUE),
        allocations=tuple(
            _allocation(office, per_unit[office.unit.code], today.year)
            for office in staffed
            if office.budget is not None
        ),
        officials=tuple(_officials(random.Random(f"plaju-officials-{seed}"), staffed)),
    )


def assessment_round(
    data: Dataset,
    standards: Mapping[str, Mapping[str, int]],
    *,
    seed: int = DEFAULT_SEED,
    assessed_on: date | None = None,
) -> list[AssessmentRow]:
    """The results of an assessment-centre round for every employee of ``data``, around the
    standards the competency service holds (``standards``: jabatan → competency → level)."""
    return _assessment_round(
        data.employees,
        standards,
        seed=seed,
        assessed_on=assessed_on or date.today(),
        method="assessment_centre",
    )
