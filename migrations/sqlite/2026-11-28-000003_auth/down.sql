DROP TABLE revocations;
DROP TABLE refresh_tokens;
