"""The record: one typed reader and writer per file, the files' primitives (atomic writes, locked
appends), and where the record lives. Nothing here runs an experiment."""
