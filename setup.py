"""The C accelerator of the zone reader (everything else is in pyproject.toml)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dnssec_doctor.zonefile._fastread",
            ["src/dnssec_doctor/zonefile/_fastread.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
