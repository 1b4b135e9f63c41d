-- stored_at was the writing transaction's start (now()); a batch can take tens of milliseconds to commit, so
-- "when this row was stored" is the row's own write time instead. Writers put the features statement last in
-- the transaction, which makes features.stored_at the nearest stand-in for the commit the row became durable in.
ALTER TABLE ticks ALTER COLUMN stored_at SET DEFAULT clock_timestamp();
ALTER TABLE features ALTER COLUMN stored_at SET DEFAULT clock_timestamp();
