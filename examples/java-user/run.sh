#!/usr/bin/env bash
# A Java team's project using mesibo-mock, built as CI builds it here (javac against Debian's jars and
# the client's build/mesibo-mock.jar: Maven Central cannot be reached) and run with JUnit's console
# launcher. With Maven: the client's coordinates in your pom.xml, then `mvn test`.
set -euo pipefail
cd "$(dirname "$0")"
JARS=${JAVA_JARS:-/usr/share/java}
CLIENT=${MESIBO_MOCK_JAR:-../../clients/java/build/mesibo-mock.jar}
[ -f "$CLIENT" ] || { echo "run.sh: $CLIENT is missing: run clients/java/build.sh first" >&2; exit 2; }
JACKSON="$JARS/jackson-databind.jar:$JARS/jackson-core.jar:$JARS/jackson-annotations.jar"
rm -rf build && mkdir -p build/classes build/test-classes
javac --release 11 -d build/classes -cp "$JACKSON" $(find src/main/java -name '*.java')
javac --release 11 -d build/test-classes -cp "build/classes:$CLIENT:$JACKSON:$JARS/junit-platform-console-standalone.jar" \
    $(find src/test/java -name '*.java')
java -jar "$JARS/junit-platform-console-standalone.jar" --disable-banner --details=tree --fail-if-no-tests \
    --class-path "build/test-classes:build/classes:$CLIENT:$JACKSON" --scan-class-path build/test-classes
