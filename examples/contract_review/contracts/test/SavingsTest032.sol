// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Savings
/// @notice A savings box with a protocol fee.
contract SavingsTest032 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public protocolFeeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256) {
        return totalDeposited;
    }

    /// @notice Set the protocol fee in basis points.
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= 500, "fee too high");
        emit FeeChanged(protocolFeeBps, newFee);
        protocolFeeBps = newFee;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function redeem(uint256 amount) external {
        require(stakes[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount / BPS_DENOMINATOR * protocolFeeBps;
        stakes[msg.sender] -= amount;
        totalDeposited -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= 10000000000000000, "below minimum");
        stakes[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function collectFees(address payable to, uint256 amount) external onlyOwner {
        require(address(this).balance - totalDeposited >= amount, "would touch deposits");
        emit Swept(to, amount);
        to.transfer(amount);
    }
}
