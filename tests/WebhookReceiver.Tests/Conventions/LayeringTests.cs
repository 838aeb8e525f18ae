using System.Text.RegularExpressions;
using System.Xml.Linq;
using Mono.Cecil;
using WebhookReceiver.Kernel;
using WebhookReceiver.Access;
using WebhookReceiver.Webhooks;
using WebhookReceiver.Tests.Infrastructure;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>
/// The library's folders depend one way (docs/architecture.md, "The layering rule"). The edges are read from what the
/// compiler wrote, not from <c>using</c> lines: every type the compiled WebhookReceiver.Core.dll names from a type of
/// namespace <c>WebhookReceiver.X</c> (signatures, attributes, locals, every token in a method body, the closures, state
/// machines and source-generated members nested in it), and every <c>cref</c> in the documentation file the build writes
/// beside it. The root namespace (and the library's extension classes in Microsoft's namespaces) composes the rest: it
/// may use any folder, and no folder may use it.
/// </summary>
public sealed partial class LayeringTests
{
    private const string Root = "(root)";

    private static readonly Lazy<Graph> Library = new(ReadLibrary);

    [Fact]
    public void The_library_folders_form_no_cycle()
    {
        var edges = Library.Value.Edges;
        Assert.Contains("Inbox", edges["Ingress"].Keys); // the graph was read: ingest writes to the inbox
        var cycles = edges.Keys.Select(start => PathBack(Library.Value, start)).OfType<string>().ToList();
        Assert.True(cycles.Count == 0, "Folder cycles: " + string.Join("; ", cycles));
    }

    [Fact]
    public void No_folder_uses_the_composition_root()
    {
        var intoRoot = Library.Value.Edges.Where(e => e.Value.ContainsKey(Root)).Select(e => Library.Value.Witness(e.Key, Root)).ToList();
        Assert.True(intoRoot.Count == 0, "Folders using the root namespace: " + string.Join(", ", intoRoot));
    }

    [Fact]
    public void The_architecture_table_lists_exactly_the_folders_and_edges_of_the_code()
    {
        var table = LayeringTable();
        var code = Library.Value.Edges;
        static string Edge(string from, string to) => $"{from} -> {to}";

        var rows = table.Select(r => r.Folder).ToList();
        var folders = code.Keys.Where(f => f != Root).ToHashSet(StringComparer.Ordinal);
        Assert.True(
            rows.ToHashSet(StringComparer.Ordinal).SetEquals(folders) && rows.Count == folders.Count,
            $"Table rows: {string.Join(", ", rows)}; folders in the code: {string.Join(", ", folders.Order(StringComparer.Ordinal))}");

        var inCode = code.SelectMany(e => e.Value.Keys.Select(t => (From: e.Key, To: t))).ToHashSet();
        var inTable = table.SelectMany(r => r.Uses.Select(t => (From: r.Folder, To: t))).ToHashSet();
        var missing = inCode.Except(inTable).Select(e => Library.Value.Witness(e.From, e.To)).Order(StringComparer.Ordinal).ToList();
        var stale = inTable.Except(inCode).Select(e => Edge(e.From, e.To)).Order(StringComparer.Ordinal).ToList();
        Assert.True(
            missing.Count == 0 && stale.Count == 0,
            $"docs/architecture.md's layering table differs from the code. In the code, not in the table: [{string.Join(", ", missing)}]. " +
            $"In the table, not in the code: [{string.Join(", ", stale)}].");

        // "A folder may use the folders above it in the table": the rows are in layer order.
        var above = new HashSet<string>(StringComparer.Ordinal);
        var upward = new List<string>();
        foreach (var row in table)
        {
            upward.AddRange(row.Uses.Where(t => !above.Contains(t)).Select(t => Edge(row.Folder, t)));
            above.Add(row.Folder);
        }

        Assert.True(upward.Count == 0, "Table rows using a folder listed below them: " + string.Join(", ", upward));
    }

    // Edges[from][to] is one place that makes the edge, for the messages.
    private sealed record Graph(Dictionary<string, Dictionary<string, string>> Edges)
    {
        public string Witness(string from, string to) =>
            Edges.GetValueOrDefault(from)?.GetValueOrDefault(to) is { } where ? $"{from} -> {to} ({where})" : $"{from} -> {to}";
    }

    private sealed record Row(string Folder, List<string> Uses);

    // The rows of "The layering rule" table: one folder a row, its "Uses" cell a comma-separated list of folders, with
    // remarks in parentheses; "(nothing of ours)" is no folder. The root's row ("everything") is not a folder.
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
                Parenthesised().Replace(cells[3], "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList()))
            .ToList();
        Assert.NotEmpty(rows);
        return rows;
    }

    private static Graph ReadLibrary()
    {
        var dll = typeof(WebhookReceiverOptions).Assembly.Location;
        using var resolver = new DefaultAssemblyResolver();
        foreach (var dir in ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(Path.GetDirectoryName).Distinct())
        {
            resolver.AddSearchDirectory(dir);
        }

        using var module = ModuleDefinition.ReadModule(dll, new ReaderParameters { AssemblyResolver = resolver });
        var edges = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var byDocId = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            var from = FolderOf(type);
            byDocId[type.FullName.Replace('/', '.')] = from;
            if (from is not null && from != Root)
            {
                var targets = edges.TryGetValue(from, out var existing) ? existing : edges[from] = new(StringComparer.Ordinal);
                new TypeReader(module, def => AddEdge(targets, from, FolderOf(def), $"{type.FullName} uses {def.FullName}")).Read(type);
            }
        }

        ReadInlinedNames(module, edges);
        ReadCrefs(Path.ChangeExtension(dll, ".xml"), byDocId, edges);
        return new Graph(edges);
    }

    // What the compiler copies as a value leaves no reference in the dll: a const (or an enum member) is inlined, a nameof()
    // becomes a string. Those are read from the source: `Type.Member` naming a const of a library type, and `nameof(Type…)`,
    // in the files of another folder (comment lines aside: their crefs are read from the documentation file).
    private static void ReadInlinedNames(ModuleDefinition module, Dictionary<string, Dictionary<string, string>> edges)
    {
        var types = module.GetTypes().Where(t => FolderOf(t) is not null && !t.Name.Contains('<', StringComparison.Ordinal)).ToList();
        var constants = types
            .SelectMany(t => t.Fields.Where(f => f.HasConstant).Select(f => (Name: $"{SimpleName(t)}.{f.Name}", Folder: FolderOf(t)!)))
            .ToLookup(c => c.Name, c => c.Folder, StringComparer.Ordinal);
        var named = types.ToLookup(SimpleName, t => FolderOf(t)!, StringComparer.Ordinal);
        var library = Path.Combine(BuiltService.RepositoryRoot, "src", "WebhookReceiver.Core");
        foreach (var file in Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(library, file);
            var lines = File.ReadAllLines(file);
            var from = lines.Select(l => FileNamespace().Match(l)).FirstOrDefault(m => m.Success) is { } ns ? FolderOfNamespace(ns.Groups[1].Value) : null;
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

    // <member name="M:WebhookReceiver.X.T.M(...)"> ... cref="T:WebhookReceiver.Y.U" ...: an edge X -> Y.
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

    // The folders of the library's types a documentation ID names: its member's type and those of its parameters.
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

    // A nested type (a lambda's closure, an async state machine, a generated logger struct) belongs to the namespace
    // of its outermost declaring type.
    private static string? FolderOf(TypeDefinition type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return FolderOfNamespace(type.Namespace);
    }

    // WebhookReceiver.X -> X; the root namespace and the library's extension classes in Microsoft's namespaces -> the
    // root; anything else (compiler and source-generator output: <PrivateImplementationDetails>, generated regexes and
    // route handlers) belongs to no folder.
    private static string? FolderOfNamespace(string ns) => ns switch
    {
        "WebhookReceiver" or "Microsoft.Extensions.DependencyInjection" or "Microsoft.AspNetCore.Builder" => Root,
        _ when ns.StartsWith("WebhookReceiver.", StringComparison.Ordinal) => ns.Split('.')[1],
        _ => null,
    };

    // Every type a type definition names, reported once it is one of the module's own definitions.
    private sealed class TypeReader(ModuleDefinition module, Action<TypeDefinition> found)
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
                case TypeDefinition definition when definition.Module == module:
                    found(definition);
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
