/**
 * A partition assigner that gives partition N of every topic to the same member. Producers key all
 * topics by account id, so with equal partition counts one account's four topic-partitions land on
 * one projector: its facts stay in one process's memory and batches never race for the account.
 * (Correctness does not depend on it: the account version in Redis fences writers anyway.)
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'CoPartitionedAssigner',
  version: 0,
  async assign({ members, topics }) {
    const sortedMembers = members.map((m) => m.memberId).sort();
    const assignment: Record<string, Record<string, number[]>> = {};
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sortedMembers[partitionId % sortedMembers.length]!;
        const mine = (assignment[member] ??= {});
        (mine[topic] ??= []).push(partitionId);
      }
    }
    return Object.entries(assignment).map(([memberId, a]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: a, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'CoPartitionedAssigner',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
