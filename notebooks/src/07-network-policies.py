"""Chapter 7 — NetworkPolicies: who may talk to whom."""
from build import code, md

M = "manifests/07-network-policies"

CELLS = [
    md(fr="""
# Chapitre 7 — Les NetworkPolicies : qui a le droit de parler à qui

Jusqu'ici, le réseau d'un cluster était une grande place publique : n'importe quel pod pouvait
ouvrir une connexion vers n'importe quel autre, quel que soit son espace de noms. C'est pratique
pour démarrer, beaucoup moins quand un de ces pods traite des numéros de carte bancaire. Une
**NetworkPolicy** (politique réseau) pose des règles sur ce trafic : elle choisit des pods, puis
dit qui peut entrer chez eux et où ils peuvent sortir.

**À la fin de ce chapitre, vous saurez :**
- constater qu'un cluster sans politique laisse tout passer, et le mesurer avec une matrice ;
- isoler une charge de travail sensible (le scénario PCI DSS) et prouver, paquet à l'appui, qui
  passe et qui ne passe pas ;
- lire pourquoi un flux est accepté ou refusé : la règle de la politique, et la règle du noyau que
  le paquet a touchée ;
- construire une posture « zero trust » en trois temps : tout refuser, rouvrir le DNS, puis
  ouvrir un seul flux ;
- ne plus confondre `namespaceSelector` et `podSelector` réunis dans un même élément ou posés en
  deux éléments séparés.
""", en="""
# Chapter 7 — NetworkPolicies: who may talk to whom

So far a cluster's network has been a big open square: any pod could open a connection to any other
one, whatever its namespace. That is handy to get started, and much less so once one of those pods
handles credit card numbers. A **NetworkPolicy** puts rules on that traffic: it picks some pods, then
says who may come in to them and where they may go out to.

**By the end of this chapter you will be able to:**
- see that a cluster without policies lets everything through, and measure it with a matrix;
- isolate a sensitive workload (the PCI DSS scenario) and prove, packets in hand, who gets through
  and who does not;
- read why a flow is allowed or denied: the policy's rule, and the kernel rule the packet hit;
- build a zero-trust posture in three moves: deny everything, open DNS again, then open one flow;
- never again mix up `namespaceSelector` and `podSelector` in one peer with the same two selectors
  as two separate peers.
"""),
    md(fr="""
## Démarrer le laboratoire

Une cellule, un cluster neuf. Ce chapitre utilise plusieurs espaces de noms : on les crée d'abord,
avec leurs étiquettes, car les politiques choisissent souvent leurs interlocuteurs par l'étiquette
de leur espace de noms.
""", en="""
## Start the lab

One cell, a fresh cluster. This chapter uses several namespaces: we create them first, with their
labels, because policies often choose who they talk to by the label of their namespace.
"""),
    code("""
from k8snet_tutorial import Lab
from k8snet_tutorial.i18n import say

lab = Lab.up(fresh=True)
lab.status()
"""),
    code(f"""
lab.apply("{M}/00-namespaces.yaml")
"""),
    code("""
lab.kubectl("get namespaces payment-processing production logging zero-trust --show-labels")
"""),
    md(fr="""
Regardez la colonne `LABELS` : en plus des étiquettes du manifeste (`compliance=pci`,
`environment=production`), chaque espace de noms porte `kubernetes.io/metadata.name=<son nom>`.
Kubernetes la pose tout seul, et c'est elle qu'une politique utilise pour désigner un espace de
noms précis par son nom.

## Par défaut, tout passe

Déployons le service de paiement (trois pods `payment-processor` derrière un Service, port 8080),
le client légitime `checkout` dans `production`, et un pod de test quelconque, `test-pod`, dans
`default`.
""", en="""
Look at the `LABELS` column: besides the manifest's labels (`compliance=pci`,
`environment=production`), every namespace carries `kubernetes.io/metadata.name=<its name>`.
Kubernetes sets it on its own, and it is the label a policy uses to name one particular namespace.

## By default, everything flows

Let us deploy the payment service (three `payment-processor` pods behind a Service, port 8080), the
legitimate client `checkout` in `production`, and some test pod, `test-pod`, in `default`.
"""),
    code(f"""
lab.apply("{M}/10-payment-processor.yaml", "{M}/30-checkout.yaml", "{M}/31-test-pod.yaml")
"""),
    code("""
lab.kubectl("get pods -n payment-processing -o wide --show-labels")
"""),
    md(fr="""
Avant d'écrire la moindre règle, mesurons. `lab.matrix` fait sonder à chaque pod des espaces de
noms donnés tous les autres pods, sur leur adresse de pod, avec de vrais paquets, en parallèle
(c'est `k8snet matrix` en ligne de commande). À gauche, ce que le noyau a laissé passer ; à droite,
ce que les politiques prévoient, calculé sans envoyer un paquet. Un `.` veut dire *autorisé*, un `X`
*refusé*, un `!` signale un désaccord entre les deux.

Un détail de lecture : `checkout` et `test-pod` n'écoutent pas sur 8080. Une sonde vers eux reçoit
donc un refus de connexion (un *reset* TCP) ; cela compte quand même comme *autorisé*, car le paquet
est bien arrivé : le réseau l'a laissé passer, c'est juste que personne n'écoutait.
""", en="""
Before writing a single rule, let us measure. `lab.matrix` makes every pod of the given namespaces
probe every other pod, on its pod address, with real packets, in parallel (`k8snet matrix` on the
command line). On the left, what the kernel let through; on the right, what the policies call for,
worked out without sending a packet. A `.` means *allowed*, an `X` *denied*, and a `!` flags a
disagreement between the two.

One detail when reading it: `checkout` and `test-pod` do not listen on 8080. A probe to them gets a
refused connection (a TCP reset); that still counts as *allowed*, because the packet did arrive: the
network let it through, there was simply nobody listening.
"""),
    code("""
PCI_NAMESPACES = ["production", "default", "payment-processing"]
before = lab.matrix(PCI_NAMESPACES, ports=[8080])
assert not before.differences
assert all(c.observed == "allowed" for c in before.cells), "without any policy, every flow is allowed"
before
"""),
    md(fr="""
Tout est vert : sans politique, Kubernetes laisse tout passer (*default allow*). Le pod de test
d'un développeur peut appeler le service de paiement, et les pods de paiement peuvent joindre
n'importe quoi. Pour une charge soumise à PCI DSS, c'est inacceptable.

## Le scénario PCI : isoler le traitement des paiements

Le cahier des charges tient en trois lignes :

- **en entrée**, seuls les pods `checkout` des espaces de noms de production peuvent appeler les
  pods de paiement, et seulement sur TCP 8080 ;
- **en sortie**, les pods de paiement ne joignent que l'API de la passerelle de paiement
  (192.168.5.0/24, HTTPS) et le collecteur de métriques de l'espace de noms `logging` (port 8125) ;
- et ils doivent toujours pouvoir résoudre des noms.

Voici la politique, `pci-payment-policy` :
""", en="""
All green: without any policy, Kubernetes lets everything through (*default allow*). A developer's
test pod can call the payment service, and the payment pods can reach anything at all. For a
workload under PCI DSS, that will not do.

## The PCI scenario: isolating payment processing

The requirements fit in three lines:

- **coming in**, only `checkout` pods from production namespaces may call the payment pods, and only
  on TCP 8080;
- **going out**, the payment pods reach only the payment gateway's API (192.168.5.0/24, HTTPS) and
  the metrics collector in the `logging` namespace (port 8125);
- and they must still be able to resolve names.

Here is the policy, `pci-payment-policy`:
"""),
    code(f"""
from pathlib import Path

def show_yaml(path):
    \"\"\"A manifest without its comments.\"\"\"
    lines = (line.split("  #")[0].rstrip() for line in (Path("../..") / path).read_text().splitlines())
    print("\\n".join(line for line in lines if line and not line.startswith("#")))

show_yaml("{M}/20-pci-payment-policy.yaml")
"""),
    md(fr="""
Lisons-la de haut en bas.

- `podSelector: pci: "true"` : la politique s'applique aux pods de paiement, et à eux seuls, dans
  son propre espace de noms `payment-processing`. Une politique ne touche jamais les pods d'un
  autre espace de noms.
- `policyTypes: [Ingress, Egress]` : dès qu'une politique sélectionne un pod pour une direction, ce
  pod devient **isolé** dans cette direction. Tout ce qui n'est pas explicitement permis est refusé.
- `ingress` : une seule règle, un seul élément (*peer*) dans `from`, qui porte **à la fois** un
  `namespaceSelector` et un `podSelector`. Les deux conditions doivent être vraies ensemble : un pod
  `role=checkout` **et** dans un espace de noms `environment=production`. Puis `ports` : TCP 8080.
- `egress` : trois règles, et il suffit qu'une seule corresponde. La plage de la passerelle
  (`ipBlock`) sur TCP 443 ; tout pod de l'espace de noms `logging` sur 8125, en UDP et en TCP
  (StatsD parle d'ordinaire UDP) ; et les pods DNS du cluster sur le port 53.

Le manifeste corrige au passage le tutoriel d'origine sur deux points. Celui-ci désignait `logging`
par une étiquette `name: logging` que personne ne pose ; la bonne étiquette est
`kubernetes.io/metadata.name`. Et surtout, il ne prévoyait **aucune règle DNS**. Or la
résolution de noms est du trafic sortant comme un autre : dès que `Egress` figure dans
`policyTypes`, une requête vers CoreDNS est refusée si aucune règle ne l'autorise. Le pod de
paiement ne pourrait même plus traduire le nom de la passerelle en adresse. D'où la troisième
règle : UDP **et** TCP 53 (TCP sert quand une réponse est trop grande pour un datagramme), vers les
pods `k8s-app=kube-dns` de `kube-system`. On nomme les pods DNS, pas l'adresse du Service
10.96.0.10 : la politique voit les paquets **après** la traduction de destination (DNAT) de
kube-proxy, quand la destination est déjà l'adresse d'un pod.

Appliquons-la, comme on taperait `kubectl apply -f` :
""", en="""
Let us read it from top to bottom.

- `podSelector: pci: "true"`: the policy applies to the payment pods, and only to them, in its own
  namespace `payment-processing`. A policy never touches pods in another namespace.
- `policyTypes: [Ingress, Egress]`: as soon as a policy selects a pod for a direction, that pod
  becomes **isolated** in that direction. Whatever is not explicitly allowed is denied.
- `ingress`: a single rule with a single peer in `from`, holding **both** a `namespaceSelector` and a
  `podSelector`. Both conditions must hold together: a `role=checkout` pod **and** in an
  `environment=production` namespace. Then `ports`: TCP 8080.
- `egress`: three rules, and any one matching is enough. The gateway's range (`ipBlock`) on TCP 443;
  any pod in the `logging` namespace on 8125, over UDP and TCP (StatsD usually speaks UDP); and the
  cluster's DNS pods on port 53.

Along the way the manifest fixes the original tutorial in two places. It named `logging` through a
`name: logging` label that nobody sets; the right label is `kubernetes.io/metadata.name`. Above all,
it had **no DNS rule**. Name resolution is outgoing traffic like any other: once `Egress` appears in
`policyTypes`, a query to CoreDNS is denied unless some rule allows it. The payment pod could not
even turn the gateway's name into an address. Hence the third rule: UDP **and** TCP 53 (TCP is used
when an answer is too big for one datagram), to the `k8s-app=kube-dns` pods of `kube-system`. We
name the DNS pods, not the Service address 10.96.0.10: the policy sees packets **after** kube-proxy's
destination translation (DNAT), when the destination is already a pod's address.

Let us apply it, as you would type `kubectl apply -f`:
"""),
    code(f"""
lab.apply("{M}/20-pci-payment-policy.yaml")
"""),
    code("""
lab.kubectl("get networkpolicy -n payment-processing")
"""),
    code("""
lab.kubectl("describe networkpolicy pci-payment-policy -n payment-processing")
""", "nbval-ignore-output"),
    md(fr="""
`kubectl describe` (sa ligne `Created on` porte une date, c'est pourquoi les tests ignorent cette
sortie) remet la politique en phrases : *Allowing ingress traffic*, *Allowing egress traffic*. Sous
`From`, le `NamespaceSelector` et le `PodSelector` sont listés ensemble, sans séparateur : c'est une
seul élément. En sortie, les lignes `----------` séparent les trois règles.

### Valider avec des tests de connectivité

Place aux paquets. Depuis le client autorisé, puis depuis le pod de test, la commande du tutoriel :

```
kubectl exec -n production checkout -- curl payment-processor.payment-processing.svc.cluster.local:8080
kubectl exec -n default test-pod -- curl --connect-timeout 2 payment-processor.payment-processing.svc.cluster.local:8080
```
""", en="""
`kubectl describe` (its `Created on` line carries a date, which is why the tests ignore this output)
puts the policy back into sentences: *Allowing ingress traffic*, *Allowing egress traffic*. Under
`From`, the `NamespaceSelector` and the `PodSelector` are listed together, with no separator: one
single peer. For egress, the `----------` lines separate the three rules.

### Validating with connectivity tests

Over to packets. From the authorised client, then from the test pod, the tutorial's command:

```
kubectl exec -n production checkout -- curl payment-processor.payment-processing.svc.cluster.local:8080
kubectl exec -n default test-pod -- curl --connect-timeout 2 payment-processor.payment-processing.svc.cluster.local:8080
```
"""),
    code("""
PAYMENT_URL = "http://payment-processor.payment-processing.svc.cluster.local:8080"
lab.exec("checkout", f"curl -s {PAYMENT_URL}", namespace="production")
""", "nbval-ignore-output"),
    code("""
lab.exec("test-pod", f"curl -s --connect-timeout 2 {PAYMENT_URL}")
"""),
    code("""
import re

def summary(r):
    \"\"\"A probe's one-line summary, with the answering replica's random suffix hidden.\"\"\"
    return re.sub(r"\\b([a-z][a-z0-9-]*-[a-z0-9]{9,10})-[a-z0-9]{5}\\b", r"\\1-xxxxx", r.summary(timing=False))

allowed = lab.probe("checkout", PAYMENT_URL, namespace="production")
denied = lab.probe("test-pod", PAYMENT_URL)
print(summary(allowed))
print(summary(denied))
assert allowed.ok and allowed.responder.startswith("payment-processor-")
assert denied.outcome == "timeout", "test-pod must not reach the payment service"
"""),
    md(fr="""
Le client `checkout` reçoit sa réponse, d'un des trois pods de paiement (lequel ? les règles de
kube-proxy le tirent au sort à chaque connexion ; la petite fonction `summary` masque donc les cinq
derniers caractères de son nom, pour que la page se relise à l'identique d'une exécution à l'autre). `test-pod`, lui,
n'obtient **rien** : `curl` attend ses deux secondes puis abandonne (code de sortie 28, *timeout*).
Remarquez que la traduction DNS a marché pour les deux : le refus arrive plus loin, devant le pod.

Revoyons la matrice. Les pods ont gardé leurs noms et leurs adresses ; seuls les verdicts ont
changé.
""", en="""
The `checkout` client gets its answer, from one of the three payment pods (which one? kube-proxy's
rules pick at random for each connection, so the small `summary` function hides the last five
characters of its name, and the page reads the same from one run to the next). `test-pod` gets
**nothing**: `curl` waits its two seconds, then gives up (exit code 28, *timeout*). Note that name
resolution worked for both: the refusal happens further on, in front of the pod.

Let us look at the matrix again. The pods kept their names and addresses; only the verdicts changed.
"""),
    code("""
after = lab.matrix(PCI_NAMESPACES, ports=[8080])
assert not after.differences, "the kernel must do exactly what the policies say"
payment = [p for p in after.pods if p.startswith("payment-processing/")]
verdict = {(c.source, c.target): c.observed for c in after.cells}
for p in payment:
    assert verdict["production/checkout", p] == "allowed"
    assert verdict["default/test-pod", p] == "denied"
    assert all(verdict[p, q] == "denied" for q in after.pods if q != p), "payment pods reach no other pod"
after
"""),
    md(fr="""
Trois choses à lire dans ce tableau :

1. la colonne des pods de paiement : seul `checkout` y entre ;
2. les lignes des pods de paiement : ils ne joignent plus **personne**, pas même `checkout` ou
   `test-pod` sur 8080. Aucune règle de sortie ne le permet ;
3. entre eux non plus : un pod de paiement n'est ni `role=checkout`, ni dans un espace de noms de
   production. Être dans le même espace de noms ne donne aucun droit.

Et les deux colonnes sont identiques : le noyau a fait exactement ce que disent les politiques.

### Pourquoi ? Demandez à l'explicateur

`lab.explain` (ou `k8snet explain` en ligne de commande) répond pour un flux de pod à pod : quelles
politiques sélectionnent la source pour la sortie et la destination pour l'entrée, quelle règle
autorise le flux ou quel refus par défaut s'applique. Puis il envoie le vrai paquet et montre la
règle netfilter qu'il a touchée, avec son compteur. C'est ce que Hubble (Cilium) ou les journaux de
flux de Calico donneraient sur un cluster de production.
""", en="""
Three things to read in this table:

1. the payment pods' columns: only `checkout` gets in;
2. the payment pods' rows: they no longer reach **anyone**, not even `checkout` or `test-pod` on
   8080. No egress rule allows it;
3. not each other either: a payment pod is neither `role=checkout` nor in a production namespace.
   Sharing a namespace grants no rights at all.

And both halves are identical: the kernel did exactly what the policies say.

### Why? Ask the explainer

`lab.explain` (or `k8snet explain` on the command line) answers for one pod-to-pod flow: which
policies select the source for egress and the destination for ingress, which rule allows the flow or
which default deny applies. Then it sends the real packet and shows the netfilter rule it hit, with
its counter. That is what Hubble (Cilium) or Calico's flow logs would tell you on a production
cluster.
"""),
    code("""
target = payment[0]
why_ok = lab.explain("production/checkout", target, port=8080)
assert why_ok.verdict.allowed and why_ok.agrees
why_ok
"""),
    code("""
why_not = lab.explain("default/test-pod", target, port=8080)
assert not why_not.verdict.allowed and why_not.agrees and why_not.probe.outcome == "timeout"
assert [h.packets for h in why_not.hits if h.verdict == "drop"] == [1]
why_not
"""),
    md(fr="""
Pour `checkout`, la source n'est sélectionnée par aucune politique en sortie (rien ne l'isole), et
l'entrée est permise par `pci-payment-policy ingress[0] from[0] ports[0]` : la première règle, son
premier élément, son premier port. Le paquet est passé par la chaîne `ingress-…` du pod sur son
nœud, et le compteur de la règle correspondante a avancé d'un paquet (`return` : la règle le
rend au reste du filtrage, qui le laisse passer).

Pour `test-pod`, aucune règle ne correspond : c'est le **refus par défaut** qu'entraîne
`pci-payment-policy` en sélectionnant le pod pour l'entrée. Et côté noyau, la règle touchée se
termine par `drop` : le paquet est jeté, sans un mot. Son compteur affiche `+1 paquet`, parfois
`+2` : sans réponse, TCP renvoie son SYN au bout d'une seconde, et ce deuxième essai est jeté lui
aussi (c'est pourquoi les tests ne comparent pas la sortie de cette cellule).

### À quoi ressemble un refus

C'est le point qui déroute le plus en dépannage. Un paquet refusé par une politique est ici
**jeté** (*drop*) : le client n'entend rien et sa tentative expire au bout de son délai. C'est ce
que fait le CNI par défaut de kind. Comparez avec un port où rien n'écoute, mais que rien n'interdit :
""", en="""
For `checkout`, no policy selects the source for egress (nothing isolates it), and ingress is allowed
by `pci-payment-policy ingress[0] from[0] ports[0]`: the first rule, its first peer, its first port.
The packet went through the pod's `ingress-…` chain on its node, and the matching rule's counter
moved by one packet (`return`: the rule hands it back to the rest of the filtering, which lets it
through).

For `test-pod`, no rule matches: this is the **default deny** that `pci-payment-policy` brings by
selecting the pod for ingress. On the kernel side, the rule that was hit ends in `drop`: the packet
is thrown away without a word. Its counter shows `+1 packet`, sometimes `+2`: hearing nothing, TCP
sends its SYN again after one second, and that second try is dropped too (which is why the tests do
not compare this cell's output).

### What a denied connection looks like

This is what puzzles people most when troubleshooting. Here a packet denied by a policy is
**dropped**: the client hears nothing and its attempt runs out its timeout. That is what kind's
default CNI does. Compare with a port where nothing listens but nothing forbids either:
"""),
    code("""
refused = lab.probe("checkout", f"{lab.pod_ip('test-pod')}:8080", namespace="production")
print(refused.summary(timing=False))
assert refused.outcome == "refused"
print(denied.summary(timing=False))
assert denied.outcome == "timeout"
"""),
    md(fr="""
Deux échecs, deux histoires. Un refus de connexion (*connection refused*) arrive **tout de suite** :
le paquet a atteint le pod, dont le noyau répond par un *reset* TCP, faute de programme à l'écoute.
Le réseau va bien. Un délai dépassé (*timeout*), lui, veut dire que le paquet s'est perdu en
route : ici, une politique l'a jeté.

Le tutoriel d'origine décrit au contraire un trafic bloqué qui serait « activement refusé ou
réinitialisé ». Cela dépend du plugin CNI : certains peuvent être configurés pour **rejeter** le
trafic refusé, en renvoyant une erreur ICMP ou un *reset* TCP, et la connexion échoue alors
immédiatement. Avant d'interpréter un échec sur un autre cluster, vérifiez dans la documentation de
votre CNI comment il répond. Une règle sûre : une connexion qui **pend** sans réponse, entre deux
pods qui se voient d'habitude, fait penser d'abord à une NetworkPolicy.

### Ce que la politique laisse sortir

La sortie des pods de paiement est verrouillée, mais pas murée. Le DNS répond toujours, grâce à la
règle ajoutée :
""", en="""
Two failures, two stories. A refused connection arrives **at once**: the packet reached the pod,
whose kernel answers with a TCP reset because no program is listening. The network is fine. A
timeout means the packet got lost on the way: here, a policy dropped it.

The original tutorial describes blocked traffic as "actively refused or immediately reset" instead.
That depends on the CNI plugin: some can be configured to **reject** denied traffic, sending back an
ICMP error or a TCP reset, and the connection then fails immediately. Before reading a failure on
another cluster, check in your CNI's documentation how it answers. A safe rule of thumb: a
connection that **hangs** with no answer, between two pods that normally see each other, points to a
NetworkPolicy first.

### What the policy lets out

The payment pods' way out is locked, not bricked up. DNS still answers, thanks to the added rule:
"""),
    code("""
payment_pod = target.split("/")[1]
lookup = lab.exec(payment_pod, "nslookup payment-processor", namespace="payment-processing")
print("\\n".join(line for line in lookup.stdout.splitlines() if line.startswith(("Name:", "Address: "))))
assert lookup.ok and "payment-processor.payment-processing.svc.cluster.local" in lookup.stdout
"""),
    code("""
dns_pod = lab.pods("kube-system", selector="k8s-app=kube-dns")[0]["metadata"]["name"]
for protocol in ("udp", "tcp"):
    e = lab.explain(target, f"kube-system/{dns_pod}", port=53, protocol=protocol)
    assert e.verdict.allowed and e.agrees, e
    print(str(e.verdict).splitlines()[0])
other = lab.explain(target, "default/test-pod", port=53, protocol="udp")
assert not other.verdict.allowed and other.agrees
print(str(other.verdict).splitlines()[0])
"""),
    md(fr="""
Port 53 autorisé vers CoreDNS, en UDP comme en TCP, mais pas vers n'importe quel pod : la règle
nomme une destination **et** un port. Le même raisonnement vaut pour les deux autres règles de
sortie : 192.168.5.0/24 sur TCP 443 (une adresse hors du laboratoire, qu'on ne sondera pas : aucun
paquet n'en sort), et les pods de `logging` sur 8125.
""", en="""
Port 53 is allowed to CoreDNS, over UDP as over TCP, but not to just any pod: the rule names a
destination **and** a port. The same reasoning holds for the other two egress rules: 192.168.5.0/24
on TCP 443 (an address outside the lab, which we will not probe: no packet leaves it), and the pods
of `logging` on 8125.
"""),
    md(fr="""
## Un élément ou deux : ET contre OU

Revenons sur la correction la plus importante. Dans `from` (ou `to`), chaque élément de la liste est
un **élément** (*peer*). Un élément qui réunit `namespaceSelector` et `podSelector` exige les deux :
c'est un **ET**. Deux éléments séparés, chacun avec un seul sélecteur, sont deux portes
différentes : un **OU**. En YAML, tout tient à un tiret :

```yaml
from:                                  from:
- namespaceSelector:                   - namespaceSelector:
    matchLabels:                           matchLabels:
      environment: production                environment: production
  podSelector:          # ET           - podSelector:          # OU
    matchLabels:                           matchLabels:
      role: checkout                         role: checkout
```

La version de droite est celle du tutoriel d'origine. Elle laisse entrer **tout** pod d'un espace de
noms de production, quelle que soit son étiquette, **ou** tout pod `role=checkout`… de l'espace de
noms de la politique (un `podSelector` seul ne regarde que chez soi).

Prouvons-le. Un nouveau pod, `reporting`, arrive dans `production` sans l'étiquette
`role=checkout`. Avec notre politique (ET), il ne passe pas :
""", en="""
## One peer or two: AND against OR

Back to the most important fix. In `from` (or `to`), each item of the list is a **peer**. A peer
holding both `namespaceSelector` and `podSelector` requires both: an **AND**. Two separate peers,
each with one selector, are two different doors: an **OR**. In YAML it all comes down to one dash:

```yaml
from:                                  from:
- namespaceSelector:                   - namespaceSelector:
    matchLabels:                           matchLabels:
      environment: production                environment: production
  podSelector:          # AND          - podSelector:          # OR
    matchLabels:                           matchLabels:
      role: checkout                         role: checkout
```

The right-hand version is the original tutorial's. It lets in **any** pod of a production
namespace, whatever its labels, **or** any `role=checkout` pod… of the policy's own namespace (a
`podSelector` on its own only looks at home).

Let us prove it. A new pod, `reporting`, shows up in `production` without the `role=checkout`
label. Under our policy (AND), it does not get in:
"""),
    code("""
import tempfile

def apply_yaml(text):
    \"\"\"Write YAML to a temporary file and `kubectl apply -f` it; returns the file's path.\"\"\"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    print(lab.kubectl(["apply", "-f", f.name]).stdout.strip())
    return f.name

REPORTING = '''
apiVersion: v1
kind: Pod
metadata:
  name: reporting
  namespace: production
  labels:
    app: reporting
spec:
  containers:
    - name: tools
      image: nicolaka/netshoot:v0.13
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait"]
'''
apply_yaml(REPORTING)
r = lab.probe("reporting", PAYMENT_URL, namespace="production")
print(summary(r))
assert r.outcome == "timeout", "AND: a production pod without role=checkout is denied"
"""),
    md(fr="""
Ajoutons maintenant une petite politique de plus, écrite à la manière du tutoriel d'origine, avec
deux éléments. Les politiques s'additionnent : un flux passe dès qu'**une** d'entre elles
l'autorise.
""", en="""
Now let us add one more small policy, written the original tutorial's way, with two peers. Policies
add up: a flow gets through as soon as **any one** of them allows it.
"""),
    code("""
TWO_PEERS = '''
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: two-peers
  namespace: payment-processing
spec:
  podSelector:
    matchLabels:
      pci: "true"
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              environment: production
        - podSelector:
            matchLabels:
              role: checkout
      ports:
        - protocol: TCP
          port: 8080
'''
two_peers_path = apply_yaml(TWO_PEERS)
r = lab.probe("reporting", PAYMENT_URL, namespace="production")
print(summary(r))
assert r.ok, "OR: any pod of a production namespace now gets in"
e = lab.explain("production/reporting", target, port=8080)
assert e.verdict.allowed and e.agrees
e
"""),
    md(fr="""
`reporting` passe, et l'explicateur dit par où : `two-peers ingress[0] from[0]`, le premier élément,
celui qui ne regarde que l'espace de noms. Un seul tiret de plus, et la politique PCI est
contournée par n'importe quel pod de production. Retirons cette politique :
""", en="""
`reporting` gets in, and the explainer says through which door: `two-peers ingress[0] from[0]`, the
first peer, the one that only looks at the namespace. One extra dash, and the PCI policy is bypassed
by any production pod. Let us remove that policy:
"""),
    code("""
print(lab.kubectl(["delete", "-f", two_peers_path]).stdout.strip())
r = lab.probe("reporting", PAYMENT_URL, namespace="production")
print(summary(r))
assert r.outcome == "timeout"
assert lab.probe("checkout", PAYMENT_URL, namespace="production").ok
"""),
    md(fr="""
## Zero trust en trois temps

Le scénario PCI isole une application. L'approche *zero trust* généralise : dans un espace de noms,
on commence par **tout refuser**, puis on ouvre un à un les flux nécessaires. L'espace de noms
`zero-trust` accueille un Deployment `web` (deux pods nginx derrière un Service) et un pod `client`.

### Étape 0 : rien n'est encore interdit
""", en="""
## Zero trust in three moves

The PCI scenario isolates one application. The *zero trust* approach goes further: in a namespace,
you start by **denying everything**, then open the flows you need one by one. The `zero-trust`
namespace hosts a `web` Deployment (two nginx pods behind a Service) and a `client` pod.

### Step 0: nothing is forbidden yet
"""),
    code(f"""
lab.apply("{M}/40-zero-trust-apps.yaml")
"""),
    code("""
def zero_trust_matrix():
    m = lab.matrix(["zero-trust"], ports=[80])
    assert not m.differences, "observed and expected must agree"
    return m

step0 = zero_trust_matrix()
assert all(c.observed == "allowed" for c in step0.cells)
web_check = lab.probe("client", "web", namespace="zero-trust")
print(summary(web_check))
assert web_check.ok
step0
"""),
    md(fr="""
### Étape 1 : tout refuser

`default-deny-all` sélectionne tous les pods de l'espace de noms (`podSelector: {}`, un sélecteur
vide choisit tout) pour l'entrée et la sortie, et n'autorise rien : il n'a ni `ingress` ni
`egress`.
""", en="""
### Step 1: deny everything

`default-deny-all` selects every pod of the namespace (`podSelector: {}`: an empty selector picks
everything) for ingress and egress, and allows nothing: it has neither `ingress` nor `egress`.
"""),
    code(f"""
show_yaml("{M}/41-default-deny.yaml")
lab.apply("{M}/41-default-deny.yaml")
"""),
    code("""
step1 = zero_trust_matrix()
assert all(c.observed == "denied" for c in step1.cells if not c.loopback)
step1
"""),
    md(fr="""
Tout est rouge, sauf la diagonale (un pod qui se sonde lui-même : le trafic ne quitte pas le pod,
aucune politique ne s'en mêle). Et le client ne peut même plus **nommer** `web` :
""", en="""
Everything is red, except the diagonal (a pod probing itself: the traffic never leaves the pod, and
no policy gets involved). And the client cannot even **name** `web` any more:
"""),
    code("""
lookup = lab.exec("client", "nslookup -timeout=1 -retry=0 web", namespace="zero-trust")
print(lookup.stdout.strip().splitlines()[-1])
assert not lookup.ok
r = lab.probe("client", "web", namespace="zero-trust")
print(summary(r))
assert not r.ok
"""),
    md(fr="""
La requête DNS part vers CoreDNS, dans `kube-system` : c'est du trafic sortant, et la politique le
jette comme le reste. C'est l'erreur la plus courante avec une politique de sortie : on pense
bloquer « Internet » et on coupe le DNS, si bien que plus rien ne marche, même ce qu'on croyait
avoir permis par nom.

### Étape 2 : rouvrir le DNS

`allow-dns` ajoute, pour tous les pods de l'espace de noms, une seule sortie : les pods
`k8s-app=kube-dns` de `kube-system`, en UDP et en TCP 53.
""", en="""
The DNS query goes to CoreDNS, in `kube-system`: it is outgoing traffic, and the policy drops it like
everything else. This is the most common mistake with an egress policy: you mean to block "the
Internet" and you cut DNS off, so that nothing works any more, not even what you thought you had
allowed by name.

### Step 2: open DNS again

`allow-dns` adds, for every pod of the namespace, one single way out: the `k8s-app=kube-dns` pods of
`kube-system`, over UDP and TCP 53.
"""),
    code(f"""
show_yaml("{M}/42-allow-dns.yaml")
lab.apply("{M}/42-allow-dns.yaml")
"""),
    code("""
lookup = lab.exec("client", "nslookup -timeout=1 -retry=0 web", namespace="zero-trust")
assert lookup.ok and "web.zero-trust.svc.cluster.local" in lookup.stdout
r = lab.probe("client", "web", namespace="zero-trust")
print(summary(r))
assert r.outcome == "timeout", "the name resolves, the HTTP connection is still dropped"
step2 = zero_trust_matrix()
assert all(c.observed == "denied" for c in step2.cells if not c.loopback)
step2
"""),
    md(fr="""
Le nom se résout de nouveau (la sonde affiche l'adresse ClusterIP du Service), mais la connexion HTTP
expire toujours : la matrice sur le port 80 n'a pas bougé.

### Étape 3 : ouvrir un seul flux

Pour que `client` parle à `web`, il faut **deux** autorisations, car les deux bouts sont isolés :
une sortie pour `client` vers les pods `app=web`, et une entrée pour les pods `web` depuis
`client`. Le manifeste contient donc deux politiques, toutes deux limitées à TCP 80.
""", en="""
The name resolves again (the probe shows the Service's ClusterIP), but the HTTP connection still
times out: the port 80 matrix has not moved.

### Step 3: open one flow

For `client` to talk to `web`, **two** permissions are needed, because both ends are isolated: an
egress rule for `client` towards the `app=web` pods, and an ingress rule for the `web` pods from
`client`. So the manifest holds two policies, both limited to TCP 80.
"""),
    code(f"""
lab.apply("{M}/43-allow-client-to-web.yaml")
"""),
    code("""
step3 = zero_trust_matrix()
for c in step3.cells:
    if not c.loopback:
        wanted = "allowed" if c.source == "zero-trust/client" else "denied"
        assert c.observed == wanted, (c.source, c.target, c.observed)
r = lab.probe("client", "web", namespace="zero-trust")
print(summary(r))
assert r.ok and r.responder.startswith("web-")
step3
"""),
    md(fr="""
Seule la ligne de `client` s'est ouverte. Les pods `web` ne se joignent pas entre eux et ne
joignent pas `client` : personne ne l'a demandé. Remarquez aussi que la sonde est passée par le
Service `web` : la politique parle de pods, et c'est après la DNAT, vers l'adresse d'un pod
`web`, que le paquet a été jugé.

Les NetworkPolicies ne disent rien des réponses : une fois une connexion acceptée, ses paquets de
retour passent toujours (le noyau les reconnaît grâce au suivi de connexions). Inutile, donc,
d'autoriser `web` → `client` pour que `client` reçoive sa page.

## À vous de pronostiquer

Avant de lancer des sondes, il est précieux de savoir ce qu'on **attend**. La grille ci-dessous vous
le fait écrire : cliquez sur une case pour passer de `?` à `.` (autorisé) puis à `X` (refusé), puis
sur « Probe ». Chaque case affiche alors trois symboles : votre pronostic, celui des politiques, et
ce qu'a fait le noyau.

Ici, elle porte sur les espaces de noms `production` et `payment-processing`, port 8080. On l'a
pré-remplie par le code (`predict`) pour que le résultat soit le même à chaque exécution ; dans
JupyterLab, videz-la en recréant la grille et faites vos propres paris. Attention au piège :
`reporting` est toujours là.
""", en="""
Only `client`'s row opened. The `web` pods do not reach each other nor `client`: nobody asked for
that. Notice also that the probe went through the `web` Service: policies talk about pods, and the
packet was judged after the DNAT, towards a `web` pod's address.

NetworkPolicies say nothing about replies: once a connection is accepted, its return packets always
pass (the kernel recognises them through connection tracking). So there is no need to allow `web` →
`client` for `client` to get its page.

## Your turn to predict

Before firing probes, it pays to know what you **expect**. The grid below makes you write it down:
click a cell to go from `?` to `.` (allowed) then to `X` (denied), then press "Probe". Each cell then
shows three symbols: your prediction, the policies' verdict, and what the kernel did.

Here it covers the `production` and `payment-processing` namespaces, port 8080. We filled it in from
code (`predict`) so that the result is the same on every run; in JupyterLab, create the grid again
to start empty and make your own bets. Watch out for the trap: `reporting` is still there.
"""),
    code("""
from k8snet_tutorial.widgets import prediction_grid

grid = prediction_grid(lab, ["production", "payment-processing"], port=8080)
guess = {}
for source in grid.pods:
    for dest in grid.pods:
        if source != dest:
            # our bet: every production pod reaches everything; nothing gets out of the payment pods
            guess[source, dest] = "allowed" if source.startswith("production/") else "denied"
grid.predict(guess).run()
right, made = grid.score
assert not grid.matrix.differences and made == len(guess)
assert right == made - 3, "three bets are wrong: reporting -> each payment pod"
grid
"""),
    md(fr="""
Trois paris perdus, et ce sont ceux qu'on avait glissés exprès : `reporting` vers chacun des trois
pods de paiement. Depuis qu'on a retiré `two-peers`, il n'a plus le droit d'entrer. Les autres cases
donnent raison au pronostic : depuis `production`, rien n'empêche de sortir (aucune politique n'y
sélectionne de pod), et un refus de connexion vers `checkout` ou `reporting` compte comme
*autorisé*.

## Ce qu'il faut retenir

- Sans NetworkPolicy, **tout passe**. Un pod n'est isolé, dans une direction, que lorsqu'au moins
  une politique le sélectionne pour cette direction ; dès lors, seul ce qu'une règle permet passe.
- Les politiques **s'additionnent** : un flux passe si une seule l'autorise. Pour un flux entre deux
  pods isolés, il faut la sortie chez l'un **et** l'entrée chez l'autre.
- Dans `from`/`to`, `namespaceSelector` et `podSelector` dans **un même élément** = ET ; en **deux
  éléments** = OU. Un `podSelector` seul ne regarde que l'espace de noms de la politique.
- Une politique de sortie doit autoriser le **DNS** explicitement (UDP et TCP 53 vers les pods
  CoreDNS) ; on désigne des **pods**, pas l'adresse du Service : la politique juge après la DNAT.
- Un flux refusé ici **expire** (paquet jeté), comme avec le CNI de kind ; d'autres CNI peuvent le
  rejeter tout de suite. Un *connection refused* veut dire que le paquet est arrivé.
- `lab.matrix` compare ce que le noyau fait et ce que les politiques disent ; `lab.explain` nomme la
  règle et le compteur netfilter d'un flux.

## Exercices

1. Dans la matrice de l'étape 3 du zero trust (`step3`), combien de flux (hors diagonale) sont
   autorisés ? Mettez ce nombre dans `answer_1`.
2. Les pods `web` doivent se joindre entre eux sur le port 80 (par exemple pour partager un
   cache). Écrivez et appliquez la ou les politiques nécessaires dans `zero-trust` (la fonction
   `apply_yaml` vous y aide), puis mettez dans `answer_2` la matrice `zero_trust_matrix()`.
3. Faites de `test-pod` un client légitime du service de paiement **sans toucher à aucune
   politique** : seulement avec `kubectl label`. Mettez ensuite dans `answer_3` le résultat
   (`outcome`) d'une sonde de `test-pod` vers `PAYMENT_URL`.
""", en="""
Three lost bets, and they are the ones we slipped in on purpose: `reporting` to each of the three
payment pods. Since we removed `two-peers`, it may not come in any more. The other cells prove the
prediction right: from `production` nothing stops traffic going out (no policy selects a pod there),
and a refused connection to `checkout` or `reporting` counts as *allowed*.

## Key points

- Without any NetworkPolicy, **everything flows**. A pod is isolated in a direction only once at least
  one policy selects it for that direction; from then on, only what some rule allows gets through.
- Policies **add up**: a flow passes if any single one allows it. For a flow between two isolated
  pods you need egress at one end **and** ingress at the other.
- In `from`/`to`, `namespaceSelector` and `podSelector` in **one peer** = AND; in **two peers** = OR.
  A `podSelector` on its own only looks at the policy's own namespace.
- An egress policy must allow **DNS** explicitly (UDP and TCP 53 to the CoreDNS pods); name **pods**,
  not the Service address: the policy judges after the DNAT.
- A denied flow here **times out** (the packet is dropped), as with kind's CNI; other CNIs may reject
  it at once. A *connection refused* means the packet did arrive.
- `lab.matrix` compares what the kernel does with what the policies say; `lab.explain` names the rule
  and the netfilter counter behind one flow.

## Exercises

1. In the zero-trust step 3 matrix (`step3`), how many flows (off the diagonal) are allowed? Put
   that number in `answer_1`.
2. The `web` pods must reach each other on port 80 (to share a cache, say). Write and apply the
   policy or policies needed in `zero-trust` (the `apply_yaml` function helps), then put the matrix
   `zero_trust_matrix()` in `answer_2`.
3. Make `test-pod` a legitimate client of the payment service **without touching any policy**: with
   `kubectl label` only. Then put in `answer_3` the `outcome` of a probe from `test-pod` to
   `PAYMENT_URL`.
"""),
    code("""
from k8snet_tutorial.exercises import check
from k8snet_tutorial.i18n import language

answer_1 = None  # a number
check(answer_1, expected=sum(c.observed == "allowed" for c in step3.cells if not c.loopback))
"""),
    code("""
answer_2 = None  # zero_trust_matrix(), once your policies are applied
if answer_2 is None:
    result = check(None, expected=None)
else:
    observed = {(c.source, c.target): c.observed for c in answer_2.cells if not c.loopback}
    webs = [p for p in answer_2.pods if p.startswith("zero-trust/web-")]
    web_to_web = all(observed[s, t] == "allowed" for s in webs for t in webs if s != t)
    result = check(web_to_web and not answer_2.differences, expected=True,
                   hint={"fr": "web -> web doit être permis des deux côtés (sortie ET entrée)",
                         "en": "web -> web must be allowed at both ends (egress AND ingress)"}[language()])
result
"""),
    code("""
answer_3 = None  # for example lab.probe(...).outcome
labels_ok = (lab.kubectl("get namespace default -o jsonpath={.metadata.labels.environment}").stdout == "production"
             and lab.kubectl("get pod test-pod -o jsonpath={.metadata.labels.role}").stdout == "checkout")
check(answer_3, expected="connected" if labels_ok else "(labels not set yet)",
      hint={"fr": "l'élément exige les deux : une étiquette sur l'espace de noms ET une sur le pod",
            "en": "the peer needs both: a namespace label AND a pod label"}[language()])
"""),
]
