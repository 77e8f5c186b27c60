-- An append in one round trip (ADR 0016). One call stores a group of appends: under the
-- ledger's advisory lock (held to COMMIT, so commit order is position order: S3, S8) it
-- checks each member's event ids (S5) and expected version (S4), gives its events their
-- versions and positions (S2, S3), stamps them with the server's clock (or p_now_us, a
-- clock the client was given, in tests), never behind the head's (S7), links and hashes them (S6), inserts them and notifies the new head.
--
-- The client sends each event's canonical body cut into three constant parts around the
-- values only known under the lock: {"position":<position><part_a><version><part_b>
-- <recorded_at><part_c><prev_hash>"}. The server joins them, hashes the bytes with
-- sha256 and stores them with the hash member appended: byte for byte what
-- ledger.codec.seal makes, which the client checks against the hashes returned.
--
-- A member whose ids are already stored ('stored') or whose stream moved ('conflict')
-- writes nothing; both are decided before any insert, so they need no subtransaction.
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
    p_now_us bigint
) RETURNS TABLE (
    o_status text,
    o_version bigint,
    o_first_position bigint,
    o_prev_hash text,
    o_recorded_us bigint,
    o_hashes text[]
) LANGUAGE plpgsql AS $$
DECLARE
    head_position bigint;
    head_hash text;
    head_us bigint;
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
    wrote boolean := false;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_class, p_lock_key);
    SELECT e.position, e.hash, e.recorded_us INTO head_position, head_hash, head_us
      FROM events e ORDER BY e.position DESC LIMIT 1;
    IF NOT FOUND THEN
        head_position := 0;
        head_hash := repeat('0', 64);
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
        IF EXISTS (SELECT 1 FROM events e WHERE e.event_id = ANY (p_event_ids[taken + 1 : taken + n])) THEN
            o_status := 'stored';
            o_version := NULL;
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
        o_status := 'ok';
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
