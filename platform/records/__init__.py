"""Case records: a case's data and attachments as stored, and the checks every change of
that data passes (rules, schema, files). Below the workflow engine, which changes a case's
data through here; above processes, whose versions a case runs on."""
