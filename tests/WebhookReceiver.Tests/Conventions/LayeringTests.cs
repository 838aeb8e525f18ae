using System.Text.RegularExpressions;
using System.Xml.Linq;
using Mono.Cecil;
using WebhookReceiver.Tests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>
/// The modules depend one way (docs/architecture.md, "The layering rule"). The edges are read from what the compiler
/// wrote, not from <c>using</c> lines: every type the compiled WebhookReceiver.Core.dll (and, where it is built,
/// WebhookReceiver.Console.dll) names from a type of namespace <c>WebhookReceiver.X</c> (signatures, attributes, locals,
/// every token in a method body, the closures, state machines and source-generated members nested in it), and every
/// <c>cref</c> in the documentation file the build writes beside it. A module is a top-level namespace under
/// <c>WebhookReceiver</c>; the console package is one module, <c>Console</c>, whatever its namespaces. The root
/// namespace (and the library's extension classes in Microsoft's namespaces) composes the core: it may use any module,
/// and no core module may use it.
/// </summary>
public sealed partial class LayeringTests
{
    private const string Root = "(root)";
    private const string ConsoleModule = "Console";
    private const string ConsoleAssembly = "WebhookReceiver.Console";
    private const string CoreAssembly = "WebhookReceiver.Core";

    // A row whose second cell starts with this marks a module being dissolved: checked while its namespace exists, and
    // no longer required once it is gone.
    private const string Dissolving = "*Dissolving:*";

    private static readonly Lazy<Graph> Library = new(ReadLibrary);

    [Fact]
    public void The_modules_form_no_cycle()
    {
        var edges = Library.Value.Edges;
        Assert.Contains("Kernel", edges["Webhooks"].Keys); // the graph was read: the webhooks module binds its settings through the kernel
        var cycles = edges.Keys.Select(start => PathBack(Library.Value, start)).OfType<string>().ToList();
        Assert.True(cycles.Count == 0, "Module cycles: " + string.Join("; ", cycles));
    }

    [Fact]
    public void No_core_module_uses_the_composition_root()
    {
        var intoRoot = Library.Value.Edges
            .Where(e => e.Value.ContainsKey(Root) && !(e.Key == ConsoleModule && Library.Value.ConsoleIsAPackage))
            .Select(e => Library.Value.Witness(e.Key, Root))
            .ToList();
        Assert.True(intoRoot.Count == 0, "Modules using the root namespace: " + string.Join(", ", intoRoot));
    }

    [Fact]
    public void No_core_type_uses_the_console_package()
    {
        var intoConsole = Library.Value.Edges
            .Where(e => e.Key != ConsoleModule && e.Value.ContainsKey(ConsoleModule) && Library.Value.ConsoleIsAPackage)
            .Select(e => Library.Value.Witness(e.Key, ConsoleModule))
            .ToList();
        Assert.True(intoConsole.Count == 0, "Core modules using the console package: " + string.Join(", ", intoConsole));
    }

    [Fact]
    public void The_architecture_table_lists_exactly_the_modules_of_the_code()
    {
        var modules = Library.Value.Edges.Keys.Where(f => f != Root).ToHashSet(StringComparer.Ordinal);
        var rows = LayeringTable().Where(r => !r.Dissolving || modules.Contains(r.Module)).Select(r => r.Module).ToList();
        Assert.True(
            rows.ToHashSet(StringComparer.Ordinal).SetEquals(modules) && rows.Count == modules.Count,
            $"Table rows: {string.Join(", ", rows)}; modules in the code: {string.Join(", ", modules.Order(StringComparer.Ordinal))}");
    }

    // An edge of the code that the table lacks is either a module the table forgot or a use of a module above (the
    // table's order is checked below): the message names one place in the code that makes it.
    [Fact]
    public void Every_edge_of_the_code_is_in_the_architecture_table()
    {
        var missing = CodeEdges().Except(TableEdges()).Select(e => Library.Value.Witness(e.From, e.To)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"In the code, not in docs/architecture.md's layering table: [{string.Join(", ", missing)}].");
    }

    [Fact]
    public void Every_edge_of_the_architecture_table_is_in_the_code()
    {
        var stale = TableEdges().Except(CodeEdges()).Select(e => $"{e.From} -> {e.To}").Order(StringComparer.Ordinal).ToList();
        Assert.True(stale.Count == 0, $"In docs/architecture.md's layering table, not in the code: [{string.Join(", ", stale)}].");
    }

    // "A module may use the modules above it in the table": the rows are in layer order.
    [Fact]
    public void The_architecture_table_has_no_upward_edge()
    {
        var above = new HashSet<string>(StringComparer.Ordinal);
        var upward = new List<string>();
        foreach (var row in LayeringTable())
        {
            upward.AddRange(row.Uses.Where(t => !above.Contains(t)).Select(t => $"{row.Module} -> {t}"));
            above.Add(row.Module);
        }

        Assert.True(upward.Count == 0, "Table rows using a module listed below them: " + string.Join(", ", upward));
    }

    // The package a handler writer adds exports only what a user's code names (docs/architecture.md, "The public
    // surface"); the console package and the service see the rest through InternalsVisibleTo.
    [Fact]
    public void The_core_package_exports_at_most_30_types()
    {
        var exported = typeof(WebhookReceiverBuilder).Assembly.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(typeof(IWebhookHandler).FullName, exported); // the list was read
        Assert.True(exported.Count <= 30, $"The core package exports {exported.Count} types: {string.Join(", ", exported)}");
    }

    private static HashSet<(string From, string To)> CodeEdges() =>
        Library.Value.Edges.Where(e => e.Key != Root)
            .SelectMany(e => e.Value.Keys.Where(t => t != Root).Select(t => (From: e.Key, To: t)))
            .ToHashSet();

    private static HashSet<(string From, string To)> TableEdges()
    {
        var modules = Library.Value.Edges.Keys.ToHashSet(StringComparer.Ordinal);
        var table = LayeringTable();
        var gone = table.Where(r => r.Dissolving && !modules.Contains(r.Module)).Select(r => r.Module).ToHashSet(StringComparer.Ordinal);
        return table
            .Where(r => !gone.Contains(r.Module))
            .SelectMany(r => r.Uses.Where(t => !gone.Contains(t)).Select(t => (From: r.Module, To: t)))
            .ToHashSet();
    }

    // Edges[from][to] is one place that makes the edge, for the messages.
    private sealed record Graph(Dictionary<string, Dictionary<string, string>> Edges, bool ConsoleIsAPackage)
    {
        public string Witness(string from, string to) =>
            Edges.GetValueOrDefault(from)?.GetValueOrDefault(to) is { } where ? $"{from} -> {to} ({where})" : $"{from} -> {to}";
    }

    private sealed record Row(string Module, bool Dissolving, List<string> Uses);

    // The rows of "The layering rule" table: one module a row, its "Uses" cell a comma-separated list of modules, with
    // remarks in parentheses; "(nothing of ours)" is no module. The root's row ("everything") is not a module.
    private static List<Row> LayeringTable()
    {
        var doc = File.ReadAllText(Path.Combine(BuiltService.RepositoryRoot, "docs", "architecture.md"));
        var section = doc[doc.IndexOf("## The layering rule", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var rows = section.Split('\n')
            .Where(line => line.StartsWith("| `", StringComparison.Ordinal))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => new Row(
                cells[1].Trim('`'),
                cells[2].StartsWith(Dissolving, StringComparison.Ordinal),
                Parenthesised().Replace(cells[3], "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList()))
            .ToList();
        Assert.NotEmpty(rows);
        return rows;
    }

    // The core assembly, and the console package's where the build put it beside the core (the service references it).
    private static Graph ReadLibrary()
    {
        var core = typeof(WebhookReceiverBuilder).Assembly.Location;
        var console = Path.Combine(Path.GetDirectoryName(core)!, ConsoleAssembly + ".dll");
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(core));
        foreach (var dir in ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(Path.GetDirectoryName).Distinct())
        {
            resolver.AddSearchDirectory(dir);
        }

        var edges = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var byDocId = new Dictionary<string, string?>(StringComparer.Ordinal); // the console's crefs name core types too
        var source = Path.Combine(BuiltService.RepositoryRoot, "src");
        Read(core, Path.Combine(source, CoreAssembly), resolver, byDocId, edges);
        var isPackage = File.Exists(console);
        if (isPackage)
        {
            Read(console, Path.Combine(source, ConsoleAssembly), resolver, byDocId, edges);
        }

        return new Graph(edges, isPackage);
    }

    private static void Read(
        string dll, string sourceFolder, IAssemblyResolver resolver, Dictionary<string, string?> byDocId, Dictionary<string, Dictionary<string, string>> edges)
    {
        using var module = ModuleDefinition.ReadModule(dll, new ReaderParameters { AssemblyResolver = resolver });
        foreach (var type in module.GetTypes())
        {
            var from = FolderOf(type);
            byDocId[type.FullName.Replace('/', '.')] = from;
            if (from is not null && from != Root)
            {
                var targets = edges.TryGetValue(from, out var existing) ? existing : edges[from] = new(StringComparer.Ordinal);
                new TypeReader(reference => AddEdge(targets, from, FolderOf(reference), $"{type.FullName} uses {reference.FullName}")).Read(type);
            }
        }

        ReadInlinedNames(module, sourceFolder, edges);
        ReadCrefs(Path.ChangeExtension(dll, ".xml"), byDocId, edges);
    }

    // What the compiler copies as a value leaves no reference in the dll: a const (or an enum member) is inlined, a nameof()
    // becomes a string. Those are read from the source: `Type.Member` naming a const of a library type, and `nameof(Type…)`,
    // in the files of another module (comment lines aside: their crefs are read from the documentation file). The
    // library's types are the core's, and the console's own when this is the console package.
    private static void ReadInlinedNames(ModuleDefinition module, string sourceFolder, Dictionary<string, Dictionary<string, string>> edges)
    {
        var modules = module.Assembly.Name.Name == CoreAssembly
            ? [module]
            : new[] { module, module.AssemblyResolver.Resolve(module.AssemblyReferences.Single(r => r.Name == CoreAssembly)).MainModule };
        var types = modules.SelectMany(m => m.GetTypes()).Where(t => FolderOf(t) is not null && !t.Name.Contains('<', StringComparison.Ordinal)).ToList();
        var constants = types
            .SelectMany(t => t.Fields.Where(f => f.HasConstant).Select(f => (Name: $"{SimpleName(t)}.{f.Name}", Folder: FolderOf(t)!)))
            .ToLookup(c => c.Name, c => c.Folder, StringComparer.Ordinal);
        var named = types.ToLookup(SimpleName, t => FolderOf(t)!, StringComparer.Ordinal);
        var isConsole = module.Assembly.Name.Name == ConsoleAssembly;
        foreach (var file in Directory.EnumerateFiles(sourceFolder, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sourceFolder, file);
            var lines = File.ReadAllLines(file);
            var from = isConsole
                ? ConsoleModule
                : lines.Select(l => FileNamespace().Match(l)).FirstOrDefault(m => m.Success) is { } ns ? FolderOfNamespace(ns.Groups[1].Value) : null;
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj" || from is null || from == Root)
            {
                continue;
            }

            var targets = edges.TryGetValue(from, out var existing) ? existing : edges[from] = new(StringComparer.Ordinal);
            foreach (var (line, number) in lines.Select((line, i) => (line, i + 1)).Where(l => !l.line.TrimStart().StartsWith("//", StringComparison.Ordinal)))
            {
                foreach (var name in MemberAccess().Matches(line).Select(m => m.Groups[1].Value))
                {
                    foreach (var to in constants[name])
                    {
                        AddEdge(targets, from, to, $"{relative}:{number} names the constant {name}");
                    }
                }

                foreach (var name in NameOf().Matches(line).Select(m => m.Groups[1].Value))
                {
                    foreach (var to in name.Split('.').SelectMany(segment => named[segment]))
                    {
                        AddEdge(targets, from, to, $"{relative}:{number} takes nameof({name})");
                    }
                }
            }
        }
    }

    private static string SimpleName(TypeDefinition type) => type.Name.Split('`')[0];

    // <member name="M:WebhookReceiver.X.T.M(...)"> ... cref="T:WebhookReceiver.Y.U" ...: an edge X -> Y. A cref into
    // another assembly of ours is read by its namespace.
    private static void ReadCrefs(string xml, Dictionary<string, string?> byDocId, Dictionary<string, Dictionary<string, string>> edges)
    {
        Assert.True(File.Exists(xml), $"The build writes the library's documentation file beside it (GenerateDocumentationFile): {xml}");
        foreach (var member in XDocument.Load(xml).Descendants("member"))
        {
            var from = TypesIn(((string)member.Attribute("name")!).Split('(')[0], byDocId).FirstOrDefault();
            if (from is null || from == Root)
            {
                continue;
            }

            var targets = edges.TryGetValue(from, out var existing) ? existing : edges[from] = new(StringComparer.Ordinal);
            foreach (var cref in member.Descendants().Attributes("cref").Select(a => a.Value))
            {
                foreach (var to in cref.StartsWith("N:", StringComparison.Ordinal) ? [FolderOfNamespace(cref[2..])] : TypesIn(cref, byDocId))
                {
                    AddEdge(targets, from, to, $"the documentation of {member.Attribute("name")!.Value} cites {cref}");
                }
            }
        }
    }

    // The modules of the library's types a documentation ID names: its member's type and those of its parameters.
    private static IEnumerable<string?> TypesIn(string docId, Dictionary<string, string?> byDocId)
    {
        foreach (Match name in DottedName().Matches(docId.Length > 2 && docId[1] == ':' ? docId[2..] : docId))
        {
            var segments = name.Value.Split('.');
            for (var length = segments.Length; length > 0; length--)
            {
                if (byDocId.TryGetValue(string.Join('.', segments[..length]), out var folder))
                {
                    yield return folder;
                    break;
                }
            }
        }
    }

    private static void AddEdge(Dictionary<string, string> targets, string from, string? to, string where)
    {
        if (to is not null && to != from)
        {
            targets.TryAdd(to, where);
        }
    }

    // A type of the console package is the Console module. A core type belongs to the namespace of its outermost
    // declaring type (a nested type: a lambda's closure, an async state machine, a generated logger struct). A type of
    // any other assembly is no module.
    private static string? FolderOf(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        var assembly = type.Scope switch
        {
            ModuleDefinition module => module.Assembly.Name.Name,
            AssemblyNameReference reference => reference.Name,
            _ => null,
        };
        return assembly switch
        {
            ConsoleAssembly => ConsoleModule,
            CoreAssembly => FolderOfNamespace(type.Namespace),
            _ => null,
        };
    }

    // WebhookReceiver.X -> X; the root namespace and the library's extension classes in Microsoft's namespaces -> the
    // root; anything else (compiler and source-generator output: <PrivateImplementationDetails>, generated regexes and
    // route handlers) belongs to no module.
    private static string? FolderOfNamespace(string ns) => ns switch
    {
        "WebhookReceiver" or "Microsoft.Extensions.DependencyInjection" or "Microsoft.AspNetCore.Builder" => Root,
        _ when ns.StartsWith("WebhookReceiver.", StringComparison.Ordinal) => ns.Split('.')[1],
        _ => null,
    };

    // Every type a type definition names, reported as the reference the compiler wrote (FolderOf says whose it is).
    private sealed class TypeReader(Action<TypeReference> found)
    {
        public void Read(TypeDefinition type)
        {
            Type(type.BaseType);
            Attributes(type);
            GenericParameters(type);
            foreach (var implemented in type.Interfaces)
            {
                Type(implemented.InterfaceType);
                Attributes(implemented);
            }

            foreach (var field in type.Fields)
            {
                Type(field.FieldType);
                Attributes(field);
            }

            foreach (var property in type.Properties)
            {
                Type(property.PropertyType);
                Attributes(property);
                Parameters(property.Parameters);
            }

            foreach (var @event in type.Events)
            {
                Type(@event.EventType);
                Attributes(@event);
            }

            foreach (var method in type.Methods)
            {
                Method(method);
            }
        }

        private void Method(MethodDefinition method)
        {
            Type(method.ReturnType);
            Attributes(method);
            Attributes(method.MethodReturnType);
            Parameters(method.Parameters);
            GenericParameters(method);
            foreach (var overridden in method.Overrides)
            {
                Member(overridden);
            }

            if (!method.HasBody)
            {
                return;
            }

            foreach (var local in method.Body.Variables)
            {
                Type(local.VariableType);
            }

            foreach (var handler in method.Body.ExceptionHandlers)
            {
                Type(handler.CatchType);
            }

            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference type:
                        Type(type);
                        break;
                    case MemberReference member:
                        Member(member);
                        break;
                    case CallSite site:
                        Type(site.ReturnType);
                        Parameters(site.Parameters);
                        break;
                }
            }
        }

        private void Member(MemberReference member)
        {
            Type(member.DeclaringType);
            switch (member)
            {
                case GenericInstanceMethod generic:
                    Member(generic.ElementMethod);
                    generic.GenericArguments.ToList().ForEach(Type);
                    break;
                case MethodReference method:
                    Type(method.ReturnType);
                    Parameters(method.Parameters);
                    break;
                case FieldReference field:
                    Type(field.FieldType);
                    break;
            }
        }

        private void Type(TypeReference? type)
        {
            switch (type)
            {
                case null or GenericParameter:
                    return;
                case GenericInstanceType generic:
                    Type(generic.ElementType);
                    generic.GenericArguments.ToList().ForEach(Type);
                    return;
                case FunctionPointerType pointer:
                    Type(pointer.ReturnType);
                    Parameters(pointer.Parameters);
                    return;
                case IModifierType modified:
                    Type(modified.ModifierType);
                    Type(modified.ElementType);
                    return;
                case TypeSpecification specification:
                    Type(specification.ElementType);
                    return;
                default:
                    found(type);
                    return;
            }
        }

        private void Parameters(IEnumerable<ParameterDefinition> parameters)
        {
            foreach (var parameter in parameters)
            {
                Type(parameter.ParameterType);
                Attributes(parameter);
            }
        }

        private void GenericParameters(IGenericParameterProvider provider)
        {
            foreach (var parameter in provider.GenericParameters)
            {
                Attributes(parameter);
                foreach (var constraint in parameter.Constraints)
                {
                    Type(constraint.ConstraintType);
                    Attributes(constraint);
                }
            }
        }

        private void Attributes(ICustomAttributeProvider provider)
        {
            foreach (var attribute in provider.CustomAttributes)
            {
                Member(attribute.Constructor);
                foreach (var argument in attribute.ConstructorArguments.Concat(attribute.Fields.Concat(attribute.Properties).Select(n => n.Argument)))
                {
                    Argument(argument);
                }
            }
        }

        // An attribute argument: its type, and a typeof() or an array or boxed value inside it.
        private void Argument(CustomAttributeArgument argument)
        {
            Type(argument.Type);
            switch (argument.Value)
            {
                case TypeReference type:
                    Type(type);
                    break;
                case CustomAttributeArgument boxed:
                    Argument(boxed);
                    break;
                case CustomAttributeArgument[] items:
                    foreach (var item in items)
                    {
                        Argument(item);
                    }

                    break;
            }
        }
    }

    // A path from start back to itself, or null.
    private static string? PathBack(Graph graph, string start)
    {
        var pending = new Stack<List<string>>([[start]]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var path))
        {
            foreach (var next in graph.Edges.GetValueOrDefault(path[^1])?.Keys.ToList() ?? [])
            {
                if (next == start)
                {
                    var cycle = path.Append(next).ToList();
                    return string.Join(", ", cycle.Zip(cycle.Skip(1), graph.Witness));
                }

                if (seen.Add(next))
                {
                    pending.Push([.. path, next]);
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"\s*\([^)]*\)")]
    private static partial Regex Parenthesised();

    [GeneratedRegex(@"[\w.`]+")]
    private static partial Regex DottedName();

    // Every A.B in a line, overlapping: X.A.B gives X.A and A.B.
    [GeneratedRegex(@"\b(?=(\w+\.\w+)\b)")]
    private static partial Regex MemberAccess();

    [GeneratedRegex(@"\bnameof\(\s*([\w.]+)")]
    private static partial Regex NameOf();

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)")]
    private static partial Regex FileNamespace();
}
