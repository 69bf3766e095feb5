import static org.junit.Assert.*

import harness.PipelineHarness
import org.junit.Assume
import org.junit.Before
import org.junit.Test

/**
 * The CPS engine finds what only a real controller would: state that cannot be saved in program.dat. A var that
 * keeps a regex Matcher in a local across a step runs fine in plain Groovy and in the plain harness; Jenkins fails
 * it when it saves the program at that step (NotSerializableException: java.util.regex.Matcher).
 */
class CpsEngineTest {
    static final String HOLDS_MATCHER = '''
def call(String file) {
    def m = (file =~ /-c(\\d+)\\.json$/)
    m.find()
    echo("call id ${m.group(1)}") // the program is saved here, with m still a local
    return m.group(1)
}
'''
    /** The CPS-safe form: only the String survives the step. */
    static final String KEEPS_A_STRING = '''import com.cloudbees.groovy.cps.NonCPS

def call(String file) {
    String id = idOf(file)
    echo("call id ${id}")
    return id
}

@NonCPS
String idOf(String file) {
    def m = (file =~ /-c(\\d+)\\.json$/)
    return m.find() ? m.group(1) : null
}
'''

    @Before
    void needsTheEngine() {
        Assume.assumeTrue('CPS engine not available: ../shared/jenkins-cps or Debian libguava-java missing (see run.sh)', System.getProperty('dify.cps') == 'on')
    }

    private static PipelineHarness run(String engine, String source) {
        PipelineHarness h = new PipelineHarness(['idOf'], engine, [idOf: source])
        assertEquals('3', h.call('idOf', 'deploy-staging-c3.json'))
        assertEquals(['call id 3'], h.console)
        return h
    }

    @Test
    void aMatcherHeldAcrossAStepIsCaughtAtThatSavePoint() {
        PipelineHarness plain = run('plain', HOLDS_MATCHER)
        assertEquals('the plain engine cannot see it', [], plain.serializationProblems)
        PipelineHarness cps = run('cps', HOLDS_MATCHER)
        assertEquals(1, cps.serializationProblems.size())
        assertTrue(cps.serializationProblems[0], cps.serializationProblems[0].contains('not serializable: java.util.regex.Matcher'))
        assertTrue(cps.serializationProblems[0], cps.serializationProblems[0].contains('before step echo'))
    }

    @Test
    void theSameLogicBehindNonCpsSavesCleanly() {
        PipelineHarness cps = run('cps', KEEPS_A_STRING)
        assertEquals([], cps.serializationProblems)
        assertTrue(cps.savePoints > 0)
    }
}
