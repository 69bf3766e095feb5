import org.junit.runner.JUnitCore
import org.junit.runner.Result
import org.junit.runner.notification.Failure

// Runs every *Test class compiled next to this one in a single JVM and prints the line CI reads.
File classes = new File(RunAll.protectionDomain.codeSource.location.toURI())
List<Class> tests = classes.listFiles().findAll { it.name.endsWith('Test.class') && !it.name.contains('$') }
    .collect { Class.forName(it.name - '.class') }.sort { it.name }
Result result = new JUnitCore().run(tests as Class[])
for (Failure f : result.failures) {
    println "FAIL ${f.testHeader}"
    println "  ${f.message}"
    String trace = f.trace.readLines().findAll { it =~ /\.groovy:\d+/ }.take(6).join('\n    ')
    println "    ${trace}"
}
int failed = result.failureCount
println "groovy: ${result.runCount - failed} passed, ${failed} failed"
System.exit(failed == 0 && result.runCount > 0 ? 0 : 1)
