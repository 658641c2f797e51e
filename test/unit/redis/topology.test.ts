import { clusterNodeLines, replicaLines } from '../../../src/redis/topology';
import { aggregateReadiness } from '../../../src/telemetry/http';

describe('topology parsing', () => {
  it('reads the replicas of INFO replication', () => {
    const info = [
      '# Replication',
      'role:master',
      'connected_slaves:2',
      'slave0:ip=10.0.0.7,port=6379,state=online,offset=1234,lag=0',
      'slave1:ip=10.0.0.8,port=6380,state=wait_bgsave,offset=0,lag=7',
      'master_repl_offset:1234',
    ].join('\r\n');
    expect(replicaLines(info)).toEqual({
      connected: 2,
      replicas: [
        { node: '10.0.0.7:6379', state: 'online', lagS: 0 },
        { node: '10.0.0.8:6380', state: 'wait_bgsave', lagS: 7 },
      ],
    });
  });

  it('reads CLUSTER NODES: address, flags, link state, slot ranges', () => {
    const text = [
      'a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460',
      'b2 127.0.0.1:7002@17002 master,fail - 1 1 2 disconnected 5461-10922 [5462->-c3]',
      'c3 127.0.0.1:7004@17004 slave,fail? a1 0 1 1 connected',
    ].join('\n');
    expect(clusterNodeLines(text)).toEqual([
      { node: '127.0.0.1:7001', flags: ['myself', 'master'], linkState: 'connected', slots: 1 },
      { node: '127.0.0.1:7002', flags: ['master', 'fail'], linkState: 'disconnected', slots: 1 },
      { node: '127.0.0.1:7004', flags: ['slave', 'fail?'], linkState: 'connected', slots: 0 },
    ]);
  });
});

describe('readiness with the topology', () => {
  const up = { name: 'db 0', ok: true };
  it('stays ready when a node only lost redundancy, not when a node is critical', () => {
    const sentinel = { node: 's:1', role: 'sentinel' as const, ok: false, detail: 'down' };
    const replica = {
      node: 'r:1',
      role: 'replica' as const,
      ok: false,
      critical: true,
      detail: 'x',
    };
    expect(aggregateReadiness('joined', [up], [sentinel])).toMatchObject({
      ready: true,
      redis: { ok: true, degraded: ['s:1'] },
    });
    expect(aggregateReadiness('joined', [up], [sentinel, replica])).toMatchObject({
      ready: false,
      redis: { ok: false, degraded: ['s:1'] },
    });
  });
});
