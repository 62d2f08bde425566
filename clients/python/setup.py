"""Builds the package with its gRPC stubs generated from the repository's proto/ (never committed).

The version is the project's (the root pom.xml's), so a client and the server it talks to match.
"""

import re
import shutil
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROTO = REPO / "proto" / "src" / "main" / "proto" / "nomadshell" / "v1" / "jobs.proto"
# Where the stubs go inside the package: nomad_shell._pb.jobs_pb2 and jobs_pb2_grpc.
STUB_PACKAGE = ("nomad_shell", "_pb")


def project_version() -> str:
    pom = (REPO / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<artifactId>nomad-shell-parent</artifactId>\s*<version>([^<]+)</version>", pom)
    if not match:
        raise SystemExit(f"no project version in {REPO / 'pom.xml'}")
    # Maven's 0.1.0-SNAPSHOT is PEP 440's 0.1.0.dev0.
    return match.group(1).replace("-SNAPSHOT", ".dev0")


def generate_stubs(package_root: Path) -> None:
    from grpc_tools import protoc  # a build requirement (pyproject.toml)
    import google.api  # googleapis-common-protos: google/api/annotations.proto

    if not PROTO.is_file():
        raise SystemExit(f"{PROTO} is missing: build from a checkout of the Nomad Shell repository")
    common_protos = Path(next(iter(google.api.__path__))).parent.parent
    grpc_protos = Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto
    with tempfile.TemporaryDirectory() as staging:
        # Compiled from the package's own path, the stubs import each other as nomad_shell._pb.*,
        # not as a top-level "nomadshell" package.
        source = Path(staging).joinpath(*STUB_PACKAGE, "jobs.proto")
        source.parent.mkdir(parents=True)
        shutil.copyfile(PROTO, source)
        out = package_root.joinpath(*STUB_PACKAGE)
        out.mkdir(parents=True, exist_ok=True)
        (out / "__init__.py").touch()
        status = protoc.main([
            "grpc_tools.protoc",
            f"-I{staging}", f"-I{common_protos}", f"-I{grpc_protos}",
            f"--python_out={package_root}", f"--pyi_out={package_root}", f"--grpc_python_out={package_root}",
            str(source),
        ])
        if status != 0:
            raise SystemExit(f"protoc failed on {PROTO} ({status})")


class BuildWithStubs(build_py):
    def run(self) -> None:
        # pip builds in the source tree and setuptools reuses build/lib: start from nothing, so a
        # file deleted from the sources (or a stale stub) never lingers in the wheel.
        shutil.rmtree(Path(self.build_lib) / STUB_PACKAGE[0], ignore_errors=True)
        super().run()
        generate_stubs(Path(self.build_lib))


setup(version=project_version(), cmdclass={"build_py": BuildWithStubs})
