// Portal users, their server-side sessions and the failed-login counters (migration 0019). Session
// ids reach this module already hashed: the cookie value itself is never stored.

import type { Db } from '../knex.ts';
import { isUniqueViolation } from '../errors.ts';
import { domainError } from '../../domain/errors.ts';
import { inTransaction, insertedId, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export type PortalRole = 'admin' | 'operator';
export type PortalUserStatus = 'active' | 'disabled';

export interface PortalUser {
  id: number;
  username: string;
  fullName: string;
  role: PortalRole;
  /** The ente an operator acts for; null for admins. */
  enteId: number | null;
  status: PortalUserStatus;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface NewPortalUser {
  username: string;
  fullName: string;
  passwordHash: string;
  role: PortalRole;
  enteId: number | null;
}

export interface PortalSession {
  idHash: string;
  userId: number | null;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
  flash: string | null;
}

export interface LoginFailures {
  key: string;
  failures: number;
  windowStartedAt: string;
  lockedUntil: string | null;
}

interface UserRow {
  id: number | string;
  username: string;
  full_name: string;
  password_hash: string;
  role: PortalRole;
  ente_id: number | string | null;
  status: PortalUserStatus;
  created_at: string;
  last_login_at: string | null;
}

interface SessionRow {
  id_hash: string;
  user_id: number | string | null;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  flash: string | null;
}

function toUser(row: UserRow): PortalUser {
  return {
    id: toInt(row.id),
    username: row.username,
    fullName: row.full_name,
    role: row.role,
    enteId: toIntOrNull(row.ente_id),
    status: row.status,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

function toSession(row: SessionRow): PortalSession {
  return {
    idHash: row.id_hash,
    userId: toIntOrNull(row.user_id),
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    flash: row.flash,
  };
}

export function createPortalUsersRepository(db: Db, clock: Clock) {
  return {
    async create(input: NewPortalUser): Promise<PortalUser> {
      try {
        const id = insertedId(
          await db('portal_users')
            .insert({
              username: input.username,
              full_name: input.fullName,
              password_hash: input.passwordHash,
              role: input.role,
              ente_id: input.enteId,
              status: 'active',
              created_at: isoNow(clock),
            })
            .returning('id'),
        );
        return (await this.get(id)) as PortalUser;
      } catch (err) {
        if (isUniqueViolation(err))
          throw domainError('DUPLICATE', `a portal user ${input.username} exists`, { field: 'username' });
        throw err;
      }
    },

    async get(id: number): Promise<PortalUser | null> {
      const row = await db<UserRow>('portal_users').where({ id }).first();
      return row ? toUser(row) : null;
    },

    /** The user and its password hash, for the login check only. */
    async findForLogin(username: string): Promise<{ user: PortalUser; passwordHash: string } | null> {
      const row = await db<UserRow>('portal_users').where({ username }).first();
      return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
    },

    async list(filter: { enteId?: number } = {}): Promise<PortalUser[]> {
      const q = db<UserRow>('portal_users').orderBy('username');
      if (filter.enteId !== undefined) q.where({ ente_id: filter.enteId });
      return (await q).map(toUser);
    },

    async setPassword(id: number, passwordHash: string): Promise<void> {
      await db('portal_users').where({ id }).update({ password_hash: passwordHash });
    },

    async setStatus(id: number, status: PortalUserStatus): Promise<void> {
      await db('portal_users').where({ id }).update({ status });
      // A disabled user's sessions end at once.
      if (status === 'disabled') await db('portal_sessions').where({ user_id: id }).delete();
    },

    async touchLogin(id: number): Promise<void> {
      await db('portal_users')
        .where({ id })
        .update({ last_login_at: isoNow(clock) });
    },

    // --- sessions -------------------------------------------------------------------------

    async createSession(session: Omit<PortalSession, 'createdAt' | 'flash'>): Promise<PortalSession> {
      const row: SessionRow = {
        id_hash: session.idHash,
        user_id: session.userId,
        csrf_token: session.csrfToken,
        created_at: isoNow(clock),
        expires_at: session.expiresAt,
        flash: null,
      };
      await db('portal_sessions').insert(row);
      return toSession(row);
    },

    /** The session, when it exists and has not expired. */
    async findSession(idHash: string): Promise<PortalSession | null> {
      const row = await db<SessionRow>('portal_sessions')
        .where({ id_hash: idHash })
        .andWhere('expires_at', '>', isoNow(clock))
        .first();
      return row ? toSession(row) : null;
    },

    async extendSession(idHash: string, expiresAt: string): Promise<void> {
      await db('portal_sessions').where({ id_hash: idHash }).update({ expires_at: expiresAt });
    },

    async deleteSession(idHash: string): Promise<void> {
      await db('portal_sessions').where({ id_hash: idHash }).delete();
    },

    async setFlash(idHash: string, flash: string | null): Promise<void> {
      await db('portal_sessions').where({ id_hash: idHash }).update({ flash });
    },

    /** Reads and clears the session's one-shot message. */
    async takeFlash(idHash: string): Promise<string | null> {
      return inTransaction(db, async (trx) => {
        const row = await trx<SessionRow>('portal_sessions').where({ id_hash: idHash }).first();
        if (!row?.flash) return null;
        await trx('portal_sessions').where({ id_hash: idHash }).update({ flash: null });
        return row.flash;
      });
    },

    async purgeExpiredSessions(): Promise<number> {
      return db('portal_sessions').where('expires_at', '<=', isoNow(clock)).delete();
    },

    // --- login throttling -------------------------------------------------------------------

    async loginFailures(key: string): Promise<LoginFailures | null> {
      const row = await db('portal_login_failures').where({ key }).first();
      return row
        ? {
            key: row.key as string,
            failures: toInt(row.failures as number),
            windowStartedAt: row.window_started_at as string,
            lockedUntil: (row.locked_until as string | null) ?? null,
          }
        : null;
    },

    async saveLoginFailures(entry: LoginFailures): Promise<void> {
      const row = {
        key: entry.key,
        failures: entry.failures,
        window_started_at: entry.windowStartedAt,
        locked_until: entry.lockedUntil,
      };
      await db('portal_login_failures').insert(row).onConflict('key').merge();
    },

    async clearLoginFailures(key: string): Promise<void> {
      await db('portal_login_failures').where({ key }).delete();
    },
  };
}

export type PortalUsersRepository = ReturnType<typeof createPortalUsersRepository>;
