import type { Session } from "./connections.js";

// Replication state of one server, read in one round trip.
// https://www.postgresql.org/docs/17/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW

export interface StandbyState {
  name: string;
  client: string | null;
  state: string;
  syncState: string;
  sentLsn: string | null;
  writeLsn: string | null;
  flushLsn: string | null;
  replayLsn: string | null;
  lagBytes: number | null;
  replayLagSeconds: number | null;
}

export interface SlotState {
  name: string;
  active: boolean;
  /** WAL the slot keeps from being removed, in bytes. */
  retainedBytes: number | null;
}

export interface ReplicationState {
  role: "primary" | "standby";
  timeline: number;
  systemId: string;
  /** Current WAL position: written (primary) or replayed (standby). */
  lsn: string | null;
  /** Furthest WAL this server has: flushed (primary), received or replayed (standby). */
  position: string | null;
  /** Contents of its newest timeline history file; null on timeline 1. */
  history: string | null;
  /** Standby: where it streams from and whether it does. */
  receiver: { status: string; sender: string | null; slot: string | null } | null;
  standbys: StandbyState[];
  slots: SlotState[];
  /** synchronous_standby_names as the server has it. */
  syncNames: string;
}

const sql = `
WITH here AS (
  SELECT pg_is_in_recovery() AS recovery,
         CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END AS lsn
)
SELECT CASE WHEN here.recovery THEN 'standby' ELSE 'primary' END AS role,
  -- pg_control_checkpoint() shows the timeline of the last checkpoint only: a just-promoted
  -- primary reads its timeline from its current WAL file name, a standby from its walreceiver.
  CASE WHEN here.recovery
    THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver),
      -- not streaming: the newer of its last restartpoint's timeline and the one it must
      -- replay up to before it is consistent (set by pg_rewind, for one)
      greatest((SELECT timeline_id FROM pg_control_checkpoint()),
               (SELECT nullif(min_recovery_end_timeline, 0) FROM pg_control_recovery())))
    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
  END AS timeline,
  (SELECT system_identifier::text FROM pg_control_system()) AS "systemId",
  here.lsn::text AS lsn,
  CASE WHEN here.recovery
    THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
    ELSE pg_current_wal_flush_lsn()
  END::text AS position,
  (SELECT pg_read_file('pg_wal/' || name) FROM pg_ls_waldir()
   WHERE name ~ '^[0-9A-F]{8}.history$' ORDER BY name DESC LIMIT 1) AS history,
  current_setting('synchronous_standby_names') AS "syncNames",
  (SELECT json_build_object('status', status, 'sender', sender_host || ':' || sender_port, 'slot', slot_name)
   FROM pg_stat_wal_receiver) AS receiver,
  (SELECT coalesce(json_agg(json_build_object(
      'name', application_name, 'client', client_addr::text, 'state', state, 'syncState', sync_state,
      'sentLsn', sent_lsn::text, 'writeLsn', write_lsn::text, 'flushLsn', flush_lsn::text,
      'replayLsn', replay_lsn::text,
      'lagBytes', pg_wal_lsn_diff(here.lsn, replay_lsn)::bigint,
      'replayLagSeconds', extract(epoch FROM replay_lag)) ORDER BY application_name), '[]')
   FROM pg_stat_replication) AS standbys,
  (SELECT coalesce(json_agg(json_build_object(
      'name', slot_name, 'active', active,
      'retainedBytes', pg_wal_lsn_diff(here.lsn, restart_lsn)::bigint) ORDER BY slot_name), '[]')
   FROM pg_replication_slots WHERE slot_type = 'physical') AS slots
FROM here`;

export async function observeReplication(s: Session): Promise<ReplicationState> {
  const [row] = await s.query<ReplicationState>(sql);
  if (!row) throw new Error("replication state query returned no row");
  return row;
}
