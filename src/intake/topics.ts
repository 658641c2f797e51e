/** Debezium topic names: `<prefix>.<database>.<table>`. */
export function topicFor(prefix: string, database: string, table: string): string {
  return `${prefix}.${database}.${table}`;
}

/** The table part of a change topic, or undefined when the topic is not of that shape. */
export function tableOfTopic(topic: string, prefix: string, database: string): string | undefined {
  const head = `${prefix}.${database}.`;
  return topic.startsWith(head) && topic.length > head.length
    ? topic.slice(head.length)
    : undefined;
}
