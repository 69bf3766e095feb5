import org.junit.runner.JUnitCore
import org.junit.runner.Result
import org.junit.runner.notification.Failure

// Runs every *Test class compiled next to this one in a single JVM and prints the line CI reads.
long started = System.currentTimeMillis()
File classes = new File(RunAll.protectionDomain.codeSource.location.toURI())
List<Class> tests = classes.listFiles().findAll { it.name.endsWith('Test.class') && !it.name.contains('$') }
    .collect { Class.forName(it.name - '.class') }.findAll { !java.lang.reflect.Modifier.isAbstract(it.modifiers) }.sort { it.name }
JUnitCore core = new JUnitCore()
Map<String, Long> perClass = [:]
long mark = 0
int skipped = 0
core.addListener(new org.junit.runner.notification.RunListener() {
    void testAssumptionFailure(Failure f) { skipped++ }
    void testStarted(org.junit.runner.Description d) { mark = System.nanoTime() }
    void testFinished(org.junit.runner.Description d) {
        String key = d.className + (d.methodName?.endsWith('[cps]') ? ' [cps]' : '')
        perClass[key] = (perClass[key] ?: 0L) + (System.nanoTime() - mark).intdiv(1000000)
    }
})
Result result = core.run(tests as Class[])
if (System.getenv('DIFY_GROOVY_TIMES')) {
    perClass.each { k, v -> println "time ${k}: ${v} ms" }
}
for (Failure f : result.failures) {
    println "FAIL ${f.testHeader}"
    println "  ${f.message}"
    String trace = f.trace.readLines().findAll { it =~ /\.groovy:\d+/ }.take(6).join('\n    ')
    println "    ${trace}"
}
if (System.getProperty('dify.cps') == 'on') {
    Class engine = Class.forName('harness.cps.CpsEngine')
    println "cps: ${engine.runs} runs in Jenkins' CPS interpreter, ${EngineTest.compared} tests with the plain engine's step sequence, " +
        "${engine.savePoints} save points (${engine.saveMillis} ms saving, ${engine.savedBytes.intdiv(Math.max(1L, engine.savePoints as long))} bytes each)"
} else {
    println 'cps: SKIPPED (../shared/jenkins-cps or Debian libguava-java missing; see run.sh)'
}
println "groovy tests: ${(System.currentTimeMillis() - started).intdiv(1000)} s in one JVM"
int failed = result.failureCount
println "groovy: ${result.runCount - failed - skipped} passed, ${failed} failed${skipped ? ", ${skipped} skipped" : ''}"
System.exit(failed == 0 && result.runCount > 0 ? 0 : 1)
