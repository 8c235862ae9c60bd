"""The C parts: the zone reader's accelerator and the zone scanner (the rest is in
pyproject.toml). The scanner links OpenSSL's libcrypto (Debian: libssl-dev to build)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dnssec_doctor.zonefile._fastread",
            ["src/dnssec_doctor/zonefile/_fastread.c"],
            include_dirs=["src/dnssec_doctor"],
            depends=["src/dnssec_doctor/_packed.h", "src/dnssec_doctor/_typebitmap.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
        Extension(
            "dnssec_doctor.verify._scan",
            ["src/dnssec_doctor/verify/_scan.c"],
            include_dirs=["src/dnssec_doctor"],
            depends=["src/dnssec_doctor/_packed.h", "src/dnssec_doctor/_typebitmap.h"],
            libraries=["crypto"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
    ]
)
