"""Flow control: a gate in front of every call to a system with a ``flow:`` section
(``gate``), the circuit breaker's bookkeeping (``breaker``) and slots handed over
inside one process (``handoff``)."""

from esb.flow.gate import FREE, Admission, FlowGate

__all__ = ["FREE", "Admission", "FlowGate"]
