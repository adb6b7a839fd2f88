"""Bahasa Indonesia by default, English for whoever chooses it.

Texts are written in Indonesian in the templates and code; ``EN`` holds their English.
A text missing here shows in Indonesian, never as a key.
"""

from __future__ import annotations

import re

LANGUAGES = ("id", "en")

EN: dict[str, str] = {
    "Beranda": "Home",
    "Profil saya": "My profile",
    "Kotak masuk": "Inbox",
    "Ikhtisar": "Overview",
    "Usulan": "Proposals",
    "Impor penilaian": "Assessment import",
    "Masuk": "Sign in",
    "Keluar": "Sign out",
    "Bahasa": "Language",
    "Lewati ke isi": "Skip to content",
    "Menu utama": "Main menu",
    "Anda masuk sebagai": "Signed in as",
    "Masuk dengan akun kota": "Sign in with the city's account",
    "Portal kompetensi ASN": "Civil servant competency portal",
    "Sesi Anda telah berakhir. Silakan masuk lagi.": (
        "Your session has ended. Please sign in again."
    ),
    "Akses ditolak": "Access denied",
    "Terjadi kesalahan": "Something went wrong",
    "Berkas terlalu besar": "File too large",
    "Satu unggahan paling besar 8 MiB; bagi berkasnya.": (
        "One upload takes at most 8 MiB; split the file."
    ),
    "Halaman tidak ditemukan": "Page not found",
    "Layanan tidak dapat dihubungi": "A service cannot be reached",
    "Coba lagi sebentar lagi.": "Please try again in a moment.",
    "Formulir kedaluwarsa": "Form expired",
    "Formulir ini sudah kedaluwarsa; muat ulang halaman lalu kirim lagi.": (
        "This form has expired; reload the page and send it again."
    ),
    "Kembali ke beranda": "Back to home",
    "Alasan": "Reason",
    "Pegawai": "Employee",
    "Jabatan": "Position",
    "Unit": "Unit",
    "Kompetensi": "Competency",
    "Standar": "Standard",
    "Capaian": "Achieved",
    "Kesenjangan": "Gap",
    "Kesenjangan kompetensi": "Competency gaps",
    "Standar dan penilaian terakhir": "Standard and latest assessment",
    "Belum ada penilaian.": "No assessment yet.",
    "Riwayat JPM": "JPM history",
    "Tanggal": "Date",
    "Kategori": "Category",
    "Metode": "Method",
    "JP tahun ini": "JP this year",
    "dari 20 JP": "of 20 JP",
    "Usulan dan pendaftaran": "Proposals and enrolments",
    "Status": "Status",
    "Tahun anggaran": "Fiscal year",
    "Biaya": "Cost",
    "Program": "Programme",
    "Riwayat pengembangan": "Development history",
    "Belum ada.": "None yet.",
    "Tidak ada kesenjangan.": "No gaps.",
    "Pesan": "Message",
    "Belum dibaca": "Unread",
    "Sudah dibaca": "Read",
    "Tandai sudah dibaca": "Mark as read",
    "Tandai belum dibaca": "Mark as unread",
    "Hanya yang belum dibaca": "Unread only",
    "Tampilkan": "Show",
    "Kotak masuk kosong.": "The inbox is empty.",
    "pesan belum dibaca": "unread messages",
    "Ringkasan kota": "City overview",
    "Ringkasan unit": "Unit overview",
    "ASN terdata": "ASN registered",
    "Memiliki penilaian terkini": "With a current assessment",
    "Dinilai pada tahun": "Assessed in",
    "Standar jabatan": "Position standards",
    "Katalog program": "Programme catalogue",
    "Anggaran": "Budget",
    "Notifikasi": "Notifications",
    "Aturan": "Rules",
    "Templat": "Templates",
    "Petugas": "Officials",
    "Tambah petugas": "Add official",
    "Langganan webhook instansi": "Agencies' webhook subscriptions",
    "Peristiwa": "Event",
    "Penerima": "Audience",
    "Kanal": "Channels",
    "Nama": "Name",
    "Peran": "Role",
    "Kode unit": "Unit code",
    "Instansi": "Agency",
    "Pola": "Patterns",
    "aktif": "active",
    "Aktifkan": "Activate",
    "Nonaktifkan": "Deactivate",
    "Hapus": "Remove",
    "nonaktif": "inactive",
    "Subjek": "Subject",
    "Isi": "Body",
    "Pratinjau": "Preview",
    "Angkatan": "Batches",
    "Tambah angkatan": "Add a batch",
    "Program baru": "New programme",
    "Kode program": "Programme code",
    "Nama program": "Programme title",
    "Biaya per peserta (rupiah)": "Cost per participant (rupiah)",
    "Kompetensi dan level yang dicapai (mis. M.01:3, T.TIK.01:2)": (
        "Competencies and the level reached (e.g. M.01:3, T.TIK.01:2)"
    ),
    "Tempat": "Place",
    "Kuota": "Capacity",
    "Terdaftar": "Enrolled",
    "Kode rekening": "Budget codes",
    "Perubahan pagu": "Amendment",
    "Pagu baru (rupiah)": "New allocation (rupiah)",
    "Nomor DPPA": "DPPA number",
    "Pagu baru untuk unit": "A new allocation for a unit",
    "Pagu (rupiah)": "Allocation (rupiah)",
    "Kode sub-kegiatan": "Sub-activity code",
    "Kode rekening belanja": "Expenditure account code",
    "Nomor DPA": "DPA number",
    "Tersimpan": "Saved",
    "Ubah level lalu tekan Enter atau pindah ke isian lain: tersimpan di layanan kompetensi.": (
        "Change a level and press Enter or move on: it is saved in the competency service."
    ),
    "Pilih berkas CSV atau XLSX.": "Choose a CSV or XLSX file.",
    "Berkas sedang diunggah dan diperiksa baris demi baris.": (
        "The file is being uploaded and checked row by row."
    ),
    "Kategori JPM per unit": "JPM categories per unit",
    "Peta kesenjangan": "Gap heatmap",
    "Bagian ASN di bawah standar, per unit dan kompetensi": (
        "Share of ASN below standard, per unit and competency"
    ),
    "Kepatuhan 20 JP per unit": "20 JP compliance per unit",
    "Di bawah 20 JP": "Under 20 JP",
    "Memenuhi": "Compliant",
    "Anggaran per unit": "Budget per unit",
    "Pagu": "Allocated",
    "Dicadangkan": "Reserved",
    "Terpakai": "Spent",
    "Tersedia": "Available",
    "Biaya menutup kesenjangan": "Cost of closing the gaps",
    "Biaya menutup kesenjangan terbuka dibanding anggaran tersedia": (
        "Cost of closing the open gaps against the budget available"
    ),
    "Kekurangan": "Shortfall",
    "Sudah diusulkan": "Already proposed",
    "Belum tertutup": "Still open",
    "Tanpa program": "Without a programme",
    "Jumlah": "Total",
    "dinilai": "assessed",
    "di bawah standar": "below standard",
    "Tidak ada akses": "No access",
    "Antrean usulan": "Proposals queue",
    "Saring": "Filter",
    "Semua": "All",
    "Umur (hari) paling sedikit": "Age (days) at least",
    "Setujui": "Approve",
    "Setujui (didanai cara lain)": "Approve (funded another way)",
    "Batalkan": "Cancel",
    "Daftarkan": "Enrol",
    "Alternatif": "Alternatives",
    "Tidak ada usulan.": "No proposals.",
    "Diajukan": "Proposed",
    "Sedang diproses; halaman ini akan diperbarui.": (
        "Under way; this page will update when it lands."
    ),
    "Selesai.": "Done.",
    "Unggah berkas": "Upload file",
    "Berkas CSV atau XLSX": "CSV or XLSX file",
    "Unggah": "Upload",
    "Baris ditolak": "Refused rows",
    "Baris": "Row",
    "Kolom": "Column",
    "Unduh baris ditolak (CSV)": "Download refused rows (CSV)",
    "Baris tersimpan": "Rows stored",
    "Baris tidak berubah": "Rows unchanged",
    "Jumlah baris": "Rows",
    "Kemajuan rantai": "Chain progress",
    "Usulan terbentuk": "Proposals created",
    "Menunggu": "Waiting",
    "Pendaftaran": "Enrolment",
    "Batch": "Batch",
    "Pengembangan di luar": "Development elsewhere",
    "Catat pengembangan di luar": "Record development done elsewhere",
    "Periksa isian yang ditandai.": "Check the marked fields.",
    "NIP pegawai": "Employee NIP",
    "Nama kegiatan": "Activity",
    "Bentuk": "Form",
    "Mulai": "Start",
    "Selesai": "End",
    "Penyelenggara": "Provider",
    "Bukti (nomor sertifikat, surat atau tautan dokumen)": (
        "Evidence (certificate number, letter or document link)"
    ),
    "Kode kompetensi (pisahkan dengan koma)": "Competency codes (comma-separated)",
    "Simpan": "Save",
    "Ubah": "Edit",
    "Sebelumnya": "Previous",
    "Berikutnya": "Next",
    "Halaman": "Page",
    "Halaman baris ditolak": "Pages of refused rows",
    "Halaman usulan": "Pages of proposals",
    "Usulan dari impor ini": "Proposals from this import",
    "Memuat usulan...": "Loading proposals...",
    "sudah ditinjau": "reviewed",
    "Ubah aturan": "Edit rule",
    "Tambah aturan": "Add rule",
    "Ubah petugas": "Edit official",
    "Kembali": "Back",
    "pegawai": "employee",
    "atasan": "supervisor",
    "kotak masuk": "inbox",
    "Wajib untuk operator unit.": "Required for a unit operator.",
    "mis. proposal.approved": "e.g. proposal.approved",
    "1 JP = 45 menit": "1 JP = 45 minutes",
    "didanai cara lain": "funded another way",
    "Tindakan": "Actions",
    "dari": "of",
    "Penilaian dengan kesenjangan": "Assessments with gaps",
}

# a proposal's or an enrolment's status as the services name it, as people read it
STATUSES = {
    "id": {
        "pending_budget": "menunggu anggaran",
        "approved": "disetujui",
        "partially_approved": "disetujui sebagian",
        "waitlisted": "daftar tunggu",
        "enrolled": "terdaftar",
        "completed": "selesai",
        "cancelled": "dibatalkan",
    },
    "en": {
        "pending_budget": "awaiting budget",
        "approved": "approved",
        "partially_approved": "partially approved",
        "waitlisted": "waitlisted",
        "enrolled": "enrolled",
        "completed": "completed",
        "cancelled": "cancelled",
    },
}


def status(value: str, language: str) -> str:
    return STATUSES.get(language, STATUSES["id"]).get(value, value)


# the services' field messages (marshmallow's) and codes, in Indonesian
FIELD_MESSAGES_ID: dict[str, str] = {
    "Missing data for required field.": "Wajib diisi.",
    "Not a valid integer.": "Bukan bilangan bulat.",
    "Not a valid number.": "Bukan angka.",
    "Not a valid string.": "Bukan teks.",
    "Not a valid date.": "Bukan tanggal yang sah.",
    "Not a valid email address.": "Bukan alamat e-mel yang sah.",
    "Not a valid URL.": "Bukan URL yang sah.",
    "Unknown field.": "Isian tidak dikenal.",
    "Field may not be null.": "Tidak boleh kosong.",
    "Shorter than minimum length 1.": "Tidak boleh kosong.",
    "A unit operator needs the unit they serve.": (
        "Operator unit memerlukan kode unit yang dilayaninya."
    ),
}


def translate(text: str, language: str) -> str:
    if language == "en":
        return EN.get(text, text)
    return text


PATTERNS_ID = (
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"Paling sedikit \1 karakter."),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        r"Panjangnya \1 sampai \2 karakter.",
    ),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"Paling banyak \1 karakter."),
    (re.compile(r"^Must be one of: (.+)\.$"), r"Harus salah satu dari: \1."),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        r"Harus antara \1 dan \2.",
    ),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"Paling kecil \1."),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"Paling besar \1."),
    (re.compile(r"^String does not match expected pattern\.$"), "Bentuknya tidak sesuai."),
    (
        re.compile(r"^No template '(.+)' in Bahasa Indonesia\.$"),
        r"Templat \1 belum ada dalam Bahasa Indonesia.",
    ),
)


def field_message(message: str, language: str) -> str:
    """A service's field message as the person reads it (the services answer in English
    where marshmallow wrote the message, in Indonesian where they wrote it themselves)."""
    if language != "id":
        return message
    where, colon, rest = message.partition(": ")
    if colon and re.fullmatch(r"[\w.]+", where):  # an item's field: "0.level: ..."
        return f"{where}: {field_message(rest, language)}"
    if message in FIELD_MESSAGES_ID:
        return FIELD_MESSAGES_ID[message]
    for pattern, text in PATTERNS_ID:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message
