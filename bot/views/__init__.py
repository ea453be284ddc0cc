"""What people see: texts from the catalogues, prompts, keyboards, callback data, alert cards."""
