// Creates Kafka topics that do not exist yet: 1 partition (or N for an argument `topic:N`),
// replication factor -Dtopics.replication.factor (1), min.insync.replicas
// -Dtopics.min.insync.replicas (broker default when unset).
// Run with the JDK's single-file source launcher and the broker classpath:
//   java -cp '.stack/lib/broker/*' scripts/stack/CreateTopics.java 127.0.0.1:19092 topic1 topic2:6 ...
// Used by scripts/stack.sh so that every mis.mis.<table> topic exists before a consumer subscribes
// (kafkajs fails subscribe() on a topic that does not exist, and Debezium only creates a topic
// when the first record for it is produced, i.e. never for an empty table).
// STACK_KAFKA_CLIENT_CONFIG names a client properties file (SASL_SSL settings of the secure stack);
// STACK_EXTRA_TOPICS (space-separated) adds topics to the ones given as arguments.
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.TopicExistsException;

public class CreateTopics {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) { System.err.println("usage: CreateTopics <bootstrap> [topic...]"); System.exit(2); }
        Properties p = new Properties();
        String clientConfig = System.getenv("STACK_KAFKA_CLIENT_CONFIG");
        if (clientConfig != null && !clientConfig.isEmpty()) {
            try (java.io.FileReader r = new java.io.FileReader(clientConfig)) { p.load(r); }
        }
        List<String> wanted = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        String extra = System.getenv("STACK_EXTRA_TOPICS");
        if (extra != null && !extra.isBlank()) wanted.addAll(Arrays.asList(extra.trim().split("\\s+")));
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> todo = new ArrayList<>();
            short rf = Short.parseShort(System.getProperty("topics.replication.factor", "1"));
            String minIsr = System.getProperty("topics.min.insync.replicas");
            for (String wantedTopic : wanted) {
                String[] spec = wantedTopic.split(":");
                if (existing.contains(spec[0])) continue;
                int partitions = spec.length > 1 ? Integer.parseInt(spec[1]) : 1;
                NewTopic topic = new NewTopic(spec[0], partitions, rf);
                if (minIsr != null) topic.configs(Map.of("min.insync.replicas", minIsr));
                todo.add(topic);
            }
            if (todo.isEmpty()) return;
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : admin.createTopics(todo).values().entrySet()) {
                try { e.getValue().get(); System.out.println("created " + e.getKey()); }
                catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) throw ex;
                }
            }
        }
    }
}
