"""Holds scripts/check-imports.py to its promise on a throwaway package: an import that arrives only
transitively (A declares B, B declares C, A imports C) builds with SwiftPM but fails the check, as
does `@_exported import`; declaring the dependency makes it pass.

Run: python3 -m unittest discover -s scripts/tests
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "check-imports.py")

MANIFEST = """// swift-tools-version:5.9
import PackageDescription
let package = Package(
    name: "probe",
    targets: [
        .target(name: "C"),
        .target(name: "B", dependencies: ["C"]),
        .target(name: "A", dependencies: [{a_dependencies}]),
    ]
)
"""


class CheckImportsTests(unittest.TestCase):
    def make_package(self, directory, a_dependencies, a_source):
        with open(os.path.join(directory, "Package.swift"), "w") as manifest:
            manifest.write(MANIFEST.replace("{a_dependencies}", a_dependencies))
        for name, source in {"C": "public let c = 1\n", "B": "import C\npublic let b = c\n", "A": a_source}.items():
            os.makedirs(os.path.join(directory, "Sources", name))
            with open(os.path.join(directory, "Sources", name, f"{name}.swift"), "w") as file:
                file.write(source)

    def run_check(self, directory):
        return subprocess.run([sys.executable, SCRIPT, directory], capture_output=True, text=True)

    def test_a_transitive_import_fails_and_declaring_it_passes(self):
        with tempfile.TemporaryDirectory() as directory:
            self.make_package(directory, '"B"', "import B\nimport C\nimport Foundation\nlet a = b + c\n")
            result = self.run_check(directory)
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertIn("Sources/A/A.swift:2: target A imports C", result.stdout)
            self.assertNotIn("imports B", result.stdout)
            self.assertNotIn("imports Foundation", result.stdout)
        with tempfile.TemporaryDirectory() as directory:
            self.make_package(directory, '"B", "C"', "import B\nimport C\nlet a = b + c\n")
            result = self.run_check(directory)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_exported_imports_fail(self):
        with tempfile.TemporaryDirectory() as directory:
            self.make_package(directory, '"B"', "@_exported import B\nlet a = b\n")
            result = self.run_check(directory)
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertIn("@_exported import B", result.stdout)


if __name__ == "__main__":
    unittest.main()
