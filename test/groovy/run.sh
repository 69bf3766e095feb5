#!/usr/bin/env bash
# Groovy tests of vars/: groovyc (Groovy 2.4, the line Jenkins runs) compiles every var as the syntax gate, then one
# JVM runs all JUnit 4 classes through the step-mocking harness. Last line: "groovy: N passed, M failed".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/test/groovy"
build="$here/build"
junit_jars=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar

if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

missing() { ! command -v groovyc >/dev/null 2>&1 || [ ! -f /usr/share/java/junit4.jar ]; }
if missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "groovy tests: installing groovy and junit4 (apt-get)..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq groovy junit4) >&2
  fi
  if missing; then
    echo "groovy tests need Debian's groovy 2.4 and junit4. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y groovy junit4" >&2
    echo "groovy: 0 passed, 1 failed"
    exit 1
  fi
fi

groovy_home=$(dirname "$(dirname "$(readlink -f "$(command -v groovyc)")")")
if ! compgen -G "$groovy_home/lib/groovy-2.4.*.jar" >/dev/null; then
  echo "groovy tests need Groovy 2.4 (the line Jenkins runs); $(command -v groovyc) is from $groovy_home" >&2
  echo "groovy: 0 passed, 1 failed"
  exit 1
fi

# Jenkins' own CPS interpreter (reference material beside the repository, like the DSL fixtures) and Guava, which it
# needs: with both, every var and pipeline scenario also runs CPS-transformed, saved at every step.
cps_jar="$root/../shared/jenkins-cps/groovy-cps-jenkins-lib.jar"
guava=/usr/share/java/guava.jar
if [ -f "$cps_jar" ] && [ ! -f "$guava" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "groovy tests: installing libguava-java for the CPS engine (apt-get)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libguava-java) >&2 || true
fi
cps_cp=""
if [ ! -f "$cps_jar" ]; then
  echo "groovy tests: CPS engine runs SKIPPED: $cps_jar not found (Jenkins' groovy-cps, shared beside the repository)" >&2
elif [ ! -f "$guava" ]; then
  echo "groovy tests: CPS engine runs SKIPPED: $guava not found (Debian libguava-java)" >&2
else
  cps_cp="$cps_jar:$guava"
fi

rm -rf "$build"
mkdir -p "$build/classes"
shopt -s globstar nullglob
sources=("$root"/vars/*.groovy "$here"/stubs/**/*.groovy "$here"/src/**/*.groovy)
if [ -n "$cps_cp" ]; then
  sources+=("$here"/src-cps/**/*.groovy)
fi
if ! groovyc -cp "$junit_jars${cps_cp:+:$cps_cp}" -d "$build/classes" "${sources[@]}" >"$build/groovyc.log" 2>&1; then
  cat "$build/groovyc.log" >&2
  echo "groovyc (Groovy 2.4) rejected the sources above" >&2
  echo "groovy: 0 passed, 1 failed"
  exit 1
fi

# The compiled vars were only the gate: the harness compiles each var alone, as Jenkins does, so that one var
# never resolves another as a class.
for var in "$root"/vars/*.groovy; do
  name=$(basename "$var" .groovy)
  rm -f "$build/classes/$name.class" "$build/classes/$name\$"*.class
done

exec java -cp "$build/classes:$groovy_home/lib/*:$junit_jars${cps_cp:+:$cps_cp}" -Ddify.root="$root" -Ddify.cps="${cps_cp:+on}" RunAll
