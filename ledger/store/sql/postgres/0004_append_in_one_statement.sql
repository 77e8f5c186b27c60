-- The append in one statement, run on its own (autocommit): the checks the client made
-- between the call and its COMMIT move into the function (ADR 0016, amended), so the
-- transaction is the call itself and the ledger's lock is held only inside the server,
-- never across a round trip to a client.
--
-- * The linked head (issue 13): the record the group links to must carry the hash of its
--   own stored bytes (the sha256 of the body less its trailing `,"hash":"…"` member, then
--   `}`: what `ledger.codec.stored_hash` computes), name its own position, and hold the hash
--   of the record before it (or the genesis hash at position 1) as its `prev_hash`, the
--   last member before the hash. Otherwise the function raises `claims: linked head` and
--   nothing is appended; the client reads the head and names what is wrong (LOG_CORRUPT).
-- * The decision times (ADR 0017): on the server's clock, a member whose lease events
--   were decided after the server's stamp (`p_ahead_us`, the latest decision) is refused
--   as `ahead`, and one whose decisions no longer hold at it (`p_deadline_us`, the earliest
--   of each decision's time plus the window and each granted lease's end less 1 us) as
--   `late`. Only that member is refused; the others of the group are stored.
-- * Plans that do not depend on the table's statistics: PL/pgSQL keeps a generic plan per
--   query once it has run a few times. On a new ledger that plan is made while the table
--   is a page or two, where a sequential scan is cheapest, and it is kept until an ANALYZE
--   invalidates it (autovacuum's, a minute or more later): every lookup of an event id or a
--   stream's version then scans the whole table, and a group of 16 appends took 10 ms at
--   2,500 rows instead of 1.2 ms. Every query here has its index (the primary key, the
--   unique event id, the unique stream and version), so the function plans without
--   sequential scans.
DROP FUNCTION append_events(
    text[], bigint[], int[], text[], text[], bytea[], bytea[], bytea[], int, int, text, bigint
);
CREATE FUNCTION append_events(
    p_streams text[],
    p_expected bigint[],
    p_counts int[],
    p_event_ids text[],
    p_types text[],
    p_part_a bytea[],
    p_part_b bytea[],
    p_part_c bytea[],
    p_lock_class int,
    p_lock_key int,
    p_channel text,
    p_now_us bigint,
    p_ahead_us bigint[],
    p_deadline_us bigint[]
) RETURNS TABLE (
    o_status text,
    o_version bigint,
    o_first_position bigint,
    o_prev_hash text,
    o_recorded_us bigint,
    o_hashes text[]
) LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    head_position bigint;
    head_hash text;
    head_us bigint;
    head_body bytea;
    head_before text;
    size int;
    now_us bigint;
    stamp bytea;
    member int;
    taken int := 0;
    n int;
    i int;
    current bigint;
    expected bigint;
    body bytea;
    digest text;
    linked boolean := false;
    wrote boolean := false;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_class, p_lock_key);
    SELECT e.position, e.hash, e.recorded_us, e.body,
           (SELECT p.hash FROM events p WHERE p.position = e.position - 1)
      INTO head_position, head_hash, head_us, head_body, head_before
      FROM events e ORDER BY e.position DESC LIMIT 1;
    IF NOT FOUND THEN
        head_position := 0;
        head_hash := repeat('0', 64);
        linked := true;
    END IF;
    now_us := coalesce(p_now_us, floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
    IF head_us IS NOT NULL AND head_us > now_us THEN
        now_us := head_us;
    END IF;
    stamp := convert_to(
        to_char(to_timestamp(now_us / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN now_us % 1000000 = 0 THEN ''
                ELSE '.' || lpad((now_us % 1000000)::text, 6, '0') END
        || 'Z', 'UTF8');
    FOR member IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
        n := p_counts[member];
        o_hashes := '{}';
        o_first_position := NULL;
        o_prev_hash := NULL;
        o_recorded_us := NULL;
        o_version := NULL;
        IF EXISTS (SELECT 1 FROM events e WHERE e.event_id = ANY (p_event_ids[taken + 1 : taken + n])) THEN
            o_status := 'stored';
            taken := taken + n;
            RETURN NEXT;
            CONTINUE;
        END IF;
        current := coalesce(
            (SELECT e.version FROM events e WHERE e.stream = p_streams[member]
              ORDER BY e.version DESC LIMIT 1), 0);
        expected := p_expected[member];
        o_version := current;
        IF expected <> -1 AND NOT (expected = 0 AND current = 0) AND expected <> current THEN
            o_status := 'conflict';
            taken := taken + n;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_ahead_us IS NOT NULL AND now_us < p_ahead_us[member] THEN
            o_status := 'ahead';
        ELSIF p_deadline_us IS NOT NULL AND now_us > p_deadline_us[member] THEN
            o_status := 'late';
        ELSE
            o_status := 'ok';
        END IF;
        IF o_status <> 'ok' THEN
            o_recorded_us := now_us;
            taken := taken + n;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF NOT linked THEN
            size := length(head_body);
            IF size < 75 + 78 + 14
               OR substring(head_body FROM size - 74) <> convert_to(',"hash":"' || head_hash || '"}', 'UTF8')
               OR encode(sha256(substring(head_body FROM 1 FOR size - 75) || '\x7d'::bytea), 'hex') <> head_hash
               OR substring(head_body FROM size - 152 FOR 78)
                  <> convert_to('"prev_hash":"' || coalesce(head_before, CASE WHEN head_position = 1
                                THEN repeat('0', 64) ELSE '' END) || '"', 'UTF8')
               OR substring(head_body FROM 1 FOR 13 + length(head_position::text))
                  <> convert_to('{"position":' || head_position::text || ',', 'UTF8')
            THEN
                RAISE EXCEPTION 'claims: linked head at position % does not check out', head_position
                    USING ERRCODE = 'data_corrupted';
            END IF;
            linked := true;
        END IF;
        o_first_position := head_position + 1;
        o_prev_hash := head_hash;
        o_recorded_us := now_us;
        FOR i IN 1 .. n LOOP
            head_position := head_position + 1;
            body := '\x7b22706f736974696f6e223a'::bytea
                || convert_to(head_position::text, 'UTF8') || p_part_a[taken + i]
                || convert_to((current + i)::text, 'UTF8') || p_part_b[taken + i]
                || stamp || p_part_c[taken + i]
                || convert_to(head_hash, 'UTF8') || '\x227d'::bytea;
            digest := encode(sha256(body), 'hex');
            INSERT INTO events (position, stream, version, event_id, type, recorded_us, hash, body)
            VALUES (head_position, p_streams[member], current + i, p_event_ids[taken + i],
                    p_types[taken + i], now_us, digest,
                    substring(body FROM 1 FOR length(body) - 1)
                    || convert_to(',"hash":"' || digest || '"}', 'UTF8'));
            head_hash := digest;
            o_hashes := o_hashes || digest;
        END LOOP;
        wrote := true;
        taken := taken + n;
        RETURN NEXT;
    END LOOP;
    IF wrote THEN
        PERFORM pg_notify(p_channel, head_position::text);
    END IF;
END
$$;
