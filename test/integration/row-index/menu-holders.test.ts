/**
 * Menus → sessions on the real stack: a menu's code is embedded in the permission map and the
 * session of every user holding it. Renaming a menu drops `session:user:{id}` and
 * `permissions:user:{id}` of exactly the users whose user_auth rows reference the menu (from the
 * row index of user_auth); a user without the menu keeps both.
 */
import { useStack } from '../../support/harness';
import { sql, testConfig, uniqId, waitCaughtUp, waitFor } from '../../support/stack';

const BOUND_MS = 20_000;

describe('menus → the sessions of the users holding the menu', () => {
  const stack = useStack();
  const { db } = stack;
  const [db0, db1] = [stack.redis(0), stack.redis(1)];
  // No second pass: a delayed re-delete would drop the re-armed keys and hide what is tested.
  const config = testConfig({ MCS_SECOND_PASS_DELAY_MS: '0' });
  const menu = uniqId();
  const [holder, other] = [uniqId(), uniqId()];
  const [auth1, auth2] = [uniqId(), uniqId()];
  const userKeys = (id: number) => [`session:user:${id}`, `permissions:user:${id}`];

  beforeAll(async () => {
    await stack.startService(config);
  });
  stack.cleanup(async () => {
    await db.query(sql`DELETE FROM user_auth WHERE auth_id IN (${auth1}, ${auth2})`);
    await db.query(sql`DELETE FROM menus WHERE menu_id = ${menu}`);
    for (const id of [holder, other]) {
      const [session, permissions] = userKeys(id) as [string, string];
      await db0.del(session);
      await db1.del(permissions);
    }
  });

  it('a menu rename logs out its holders only', async () => {
    await db.query(
      sql`INSERT INTO menus (menu_id, code, name) VALUES (${menu}, ${`m${menu}`}, '메뉴')`,
    );
    // The creates invalidate both users' keys; once committed, the rows are in the row index.
    const arm = async () => {
      for (const id of [holder, other]) {
        await db0.set(`session:user:${id}`, 'cached', 'EX', 600);
        await db1.set(`permissions:user:${id}`, 'cached', 'EX', 600);
      }
    };
    await arm();
    // the holder has the menu; the other user has another menu (seed menu 1)
    await db.query(sql`INSERT INTO user_auth (auth_id, user_id, menu_id) VALUES
      (${auth1}, ${holder}, ${menu}), (${auth2}, ${other}, 1)`);
    await waitFor(
      async () =>
        (await db0.exists(`session:user:${holder}`, `session:user:${other}`)) === 0 &&
        (await db1.exists(`permissions:user:${holder}`, `permissions:user:${other}`)) === 0,
      BOUND_MS,
      'the user_auth creates to be applied',
    );
    await waitCaughtUp(config.kafka.groupId, ['mis.mis.user_auth']);
    await arm();

    await db.query(sql`UPDATE menus SET code = ${`m${menu}x`} WHERE menu_id = ${menu}`);
    await waitFor(
      async () =>
        (await db0.exists(`session:user:${holder}`)) === 0 &&
        (await db1.exists(`permissions:user:${holder}`)) === 0,
      BOUND_MS,
      'the holder session and permission map',
    );
    await waitCaughtUp(config.kafka.groupId, ['mis.mis.menus']);
    expect(await db0.get(`session:user:${other}`)).toBe('cached');
    expect(await db1.get(`permissions:user:${other}`)).toBe('cached');
  });
});
