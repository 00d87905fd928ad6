#!/usr/bin/env bash
# The client built with plain javac against Debian's jars (libjackson2-databind-java, junit5), where
# Maven Central cannot be reached: build/mesibo-mock.jar. `./build.sh test` then runs the client's own
# tests with JUnit's console launcher against a real server (MESIBO_MOCK_BIN, or one found as the
# client finds it). The same sources build with Maven (pom.xml) where Maven Central is reachable.
set -euo pipefail
cd "$(dirname "$0")"
JARS=${JAVA_JARS:-/usr/share/java}
JACKSON="$JARS/jackson-databind.jar:$JARS/jackson-core.jar:$JARS/jackson-annotations.jar"
JUNIT="$JARS/junit-jupiter-api.jar:$JARS/apiguardian-api.jar:$JARS/opentest4j.jar:$JARS/junit-platform-commons.jar"
for jar in "$JARS/jackson-databind.jar" "$JARS/junit-jupiter-api.jar" "$JARS/junit-platform-console-standalone.jar"; do
    [ -f "$jar" ] || { echo "build.sh: $jar is missing: apt-get install libjackson2-databind-java junit5" >&2; exit 2; }
done
rm -rf build
mkdir -p build/classes build/test-classes
javac --release 11 -Xlint:all -Werror -d build/classes -cp "$JACKSON:$JUNIT" $(find src/main/java -name '*.java')
jar cf build/mesibo-mock.jar -C build/classes .
echo "build.sh: build/mesibo-mock.jar"
if [ "${1:-}" = test ]; then
    javac --release 11 -d build/test-classes -cp "build/mesibo-mock.jar:$JACKSON:$JARS/junit-platform-console-standalone.jar" \
        $(find src/test/java -name '*.java')
    # the fixtures are test classes meant to fail: the extension's own test runs them, the scan does not
    java -Dmesibo.test.classpath="$PWD/build/test-classes:$PWD/build/mesibo-mock.jar:$JACKSON" \
        -jar "$JARS/junit-platform-console-standalone.jar" --disable-banner --details=tree --fail-if-no-tests \
        --class-path "build/test-classes:build/mesibo-mock.jar:$JACKSON" \
        --scan-class-path build/test-classes --exclude-package io.github.mesibomock.fixtures
fi
