"""Workflows: states, actions, approvals by distinct people, checklists, SLA timers and
effects, run on the process version a case started under (docs/workflow-spec.md)."""
