"""Prints a command from README.md's first code block: `quickstart` (line 1) or `test` (line 2)."""
import pathlib
import sys

lines = pathlib.Path(__file__).resolve().parent.parent.joinpath("README.md").read_text().splitlines()
start = next(i for i, line in enumerate(lines) if line.startswith("```"))
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
commands = [line for line in lines[start + 1 : end] if line.strip()]
if len(commands) != 2:
    sys.exit(f"README.md's first code block must hold exactly two commands, found {len(commands)}")
print(commands[{"quickstart": 0, "test": 1}[sys.argv[1]]])
