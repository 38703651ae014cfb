from trellis.cli import run

run()
