-- The append returns the record it links to (ADR 0016, "the linked head"): the head it read
-- under the lock, with its body and the hash of the record before it, on the first row it
-- answers. The client checks that record (its hash, its link) before it commits, as it did
-- with a second query inside the transaction before this migration: one round trip fewer
-- while the lock is held. The columns of migration 2 keep their names and order, so a
-- client that selects only them reads the new function unchanged.
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
    p_now_us bigint
) RETURNS TABLE (
    o_status text,
    o_version bigint,
    o_first_position bigint,
    o_prev_hash text,
    o_recorded_us bigint,
    o_hashes text[],
    o_link_position bigint,
    o_link_hash text,
    o_link_recorded_us bigint,
    o_link_body bytea,
    o_link_before text
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
    SELECT e.position, e.hash, e.recorded_us, e.body,
           (SELECT p.hash FROM events p WHERE p.position = e.position - 1)
      INTO head_position, head_hash, head_us, o_link_body, o_link_before
      FROM events e ORDER BY e.position DESC LIMIT 1;
    IF NOT FOUND THEN
        head_position := 0;
        head_hash := repeat('0', 64);
    ELSE
        o_link_position := head_position;
        o_link_hash := head_hash;
        o_link_recorded_us := head_us;
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
            o_link_position := NULL; o_link_hash := NULL; o_link_recorded_us := NULL;
            o_link_body := NULL; o_link_before := NULL;
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
            o_link_position := NULL; o_link_hash := NULL; o_link_recorded_us := NULL;
            o_link_body := NULL; o_link_before := NULL;
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
        o_link_position := NULL; o_link_hash := NULL; o_link_recorded_us := NULL;
        o_link_body := NULL; o_link_before := NULL;
    END LOOP;
    IF wrote THEN
        PERFORM pg_notify(p_channel, head_position::text);
    END IF;
END
$$;
