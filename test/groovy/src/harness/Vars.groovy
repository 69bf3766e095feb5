package harness

/** The repository's vars/ directory: names and sources, for the harness and the convention tests. */
class Vars {
    static File root() {
        return new File(System.getProperty('dify.root', '.')).canonicalFile
    }

    static File dir() {
        return new File(root(), 'vars')
    }

    static List<String> names() {
        return dir().listFiles().findAll { it.name.endsWith('.groovy') }.collect { it.name - '.groovy' }.sort()
    }

    static String source(String name) {
        return new File(dir(), "${name}.groovy").getText('UTF-8')
    }

    /** The engine new harnesses use: 'plain', or 'cps' (set by the engine-parameterised tests). */
    static String engine = 'plain'

    static PipelineHarness harness() {
        return new PipelineHarness(names(), engine)
    }
}
