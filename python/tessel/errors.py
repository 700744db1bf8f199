"""Exceptions Tessel raises."""


class CompileError(Exception):
    """A kernel or IR failed to compile; the message holds located diagnostics
    in the form ``file:line:col: error: message``."""

    @property
    def diagnostics(self) -> str:
        return self.args[0] if self.args else ""
