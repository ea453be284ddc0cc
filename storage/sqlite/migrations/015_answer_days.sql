-- Answers counted per UTC day, metric and score, kept by triggers in the very transaction that
-- writes an answer (every path: a press, an import, a test). A 90-day figure then reads about
-- 90 x 23 rows plus the two partial days at its ends, instead of 120,000 index entries.
-- Figures with filters (product=...) still count the answers themselves.
CREATE TABLE answer_days (
    day    TEXT NOT NULL,  -- YYYY-MM-DD of answered_at, which is stored in UTC
    metric TEXT NOT NULL,
    score  INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, metric, score)
) WITHOUT ROWID;

INSERT INTO answer_days (day, metric, score, n)
    SELECT substr(answered_at, 1, 10), metric, score, count(*) FROM answers GROUP BY 1, 2, 3;

CREATE TRIGGER answer_days_insert AFTER INSERT ON answers BEGIN
    INSERT INTO answer_days (day, metric, score, n)
        VALUES (substr(NEW.answered_at, 1, 10), NEW.metric, NEW.score, 1)
        ON CONFLICT (day, metric, score) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER answer_days_delete AFTER DELETE ON answers BEGIN
    UPDATE answer_days SET n = n - 1
        WHERE day = substr(OLD.answered_at, 1, 10) AND metric = OLD.metric AND score = OLD.score;
END;

CREATE TRIGGER answer_days_update AFTER UPDATE OF answered_at, metric, score ON answers BEGIN
    UPDATE answer_days SET n = n - 1
        WHERE day = substr(OLD.answered_at, 1, 10) AND metric = OLD.metric AND score = OLD.score;
    INSERT INTO answer_days (day, metric, score, n)
        VALUES (substr(NEW.answered_at, 1, 10), NEW.metric, NEW.score, 1)
        ON CONFLICT (day, metric, score) DO UPDATE SET n = n + 1;
END;
