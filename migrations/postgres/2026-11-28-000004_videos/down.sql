DROP TABLE idempotency_keys;
DROP TABLE videos;
DROP TABLE batches;
