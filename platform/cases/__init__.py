"""Cases: one filled form of a process for a customer, with its attachments and lifecycle."""
